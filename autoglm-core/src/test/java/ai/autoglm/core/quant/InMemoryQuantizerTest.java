package ai.autoglm.core.quant;

import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load-time quantization equals loading a file with the same per-tensor types: for quantized targets the file
 * {@code autoglm quantize} writes ({@link ModelQuantizer#quantizeFile}, the plan of {@link QuantizationPlanner}); for
 * F16 a file written here by {@link GgufWriter} from the fixture's F32 values. Types and every stored value must be
 * identical, and the logits equal up to float rounding.
 */
class InMemoryQuantizerTest {
    @TempDir
    Path dir;

    /** The fixture's GGUF with each tensor in the type {@code plan} names. */
    static Path writeWithTypes(ModelFixtures.Spec s, List<TensorSpec> plan, Path file) {
        Map<String, GgmlType> types = new HashMap<>();
        for (TensorSpec t : plan) types.put(t.name(), t.type());
        GgufWriter g = new GgufWriter();
        ModelFixtures.ggufMetadata(s).forEach(g::put);
        for (var e : ModelFixtures.ggufTensors(s, ModelFixtures.hfWeights(s)).entrySet()) {
            g.addTensor(e.getKey(), ModelFixtures.ggufShape(s, e.getKey(), e.getValue()), e.getValue(), types.get(e.getKey()));
        }
        g.write(file);
        return file;
    }

    void sameAsAFileWithTheSameTypes(ModelFixtures.Spec s, GgmlType target) {
        Path f32 = ModelFixtures.writeGguf(s, dir.resolve("f32-" + s.dim() + ".gguf"), GgmlType.F32);
        int[] tokens = {1, 5, 9, 40, 200, 7, 3, 100};
        try (LanguageModel mem = InMemoryQuantizer.load(f32, target)) {
            WeightSource w = ((TransformerModel) mem).weights();
            List<TensorSpec> plan = TensorSpec.of(w);
            assertThat(plan).extracting(TensorSpec::type).contains(target);
            Path reference = dir.resolve(target + ".gguf");
            if (target.blockSize > 1) {
                ModelQuantizer.quantizeFile(f32, reference, QuantizationOptions.of(WeightTypeRule.preset(target)), null, null,
                        (i, n, t, imatrix, nanos) -> { });
            } else {
                writeWithTypes(s, plan, reference);
            }
            try (LanguageModel file = ModelLoader.load(reference)) {
                WeightSource fw = ((TransformerModel) file).weights();
                for (TensorSpec t : plan) {
                    FloatTensor a = w.tensor(t.name()), b = fw.tensor(t.name());
                    assertThat(b.type()).as(t.name()).isEqualTo(a.type());
                    for (long i = 0; i < a.size(); i++) assertThat(a.getFloat(i)).as(t.name() + " " + t.type() + " [" + i + "]").isEqualTo(b.getFloat(i));
                }
                float[] la = mem.forward(mem.newState(16), tokens, 0, tokens.length, true);
                float[] lb = file.forward(file.newState(16), tokens, 0, tokens.length, true);
                // Same values; the logits agree to float rounding only, because the Vector API leaves the order of lane
                // reductions open and the interpreted first forward and a JIT-compiled later one may sum differently.
                assertThat(la).containsExactly(lb, org.assertj.core.data.Offset.offset(1e-4f));
            }
        }
    }

    @Test
    void q8_0() {
        sameAsAFileWithTheSameTypes(ModelFixtures.llama(), GgmlType.Q8_0);
    }

    @Test
    void q4_0WithTheOutputRuleAsAutoglmQuantize() {
        sameAsAFileWithTheSameTypes(ModelFixtures.llama(), GgmlType.Q4_0);
    }

    @Test
    void f16() {
        sameAsAFileWithTheSameTypes(ModelFixtures.llama(), GgmlType.F16);
    }

    @Test
    void q4_kIsQ4_K_MAsAutoglmQuantize() {
        sameAsAFileWithTheSameTypes(ModelFixtures.llama().withDims(256, 4, 2, 512), GgmlType.Q4_K);
    }

    @Test
    void anHfDirectoryIsQuantizedToo() {
        Path hf = ModelFixtures.writeHf(ModelFixtures.qwen2(), dir.resolve("hf"), "BF16");
        try (LanguageModel m = InMemoryQuantizer.load(hf, GgmlType.Q8_0)) {
            List<TensorSpec> t = TensorSpec.of(((TransformerModel) m).weights());
            assertThat(t).filteredOn(x -> x.dims() == 2).extracting(TensorSpec::type).containsOnly(GgmlType.Q8_0);
            assertThat(t).filteredOn(x -> x.dims() == 1).extracting(TensorSpec::type).containsOnly(GgmlType.BF16); // kept as stored, as llama-quantize
            for (float v : m.forward(m.newState(8), new int[]{1, 2, 3}, 0, 3, false)) assertThat(v).isFinite();
        }
    }
}
