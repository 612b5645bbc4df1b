package ai.autoglm.core.quant;

import ai.autoglm.core.testing.GgmlReference;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Whole models through {@link ModelQuantizer}: bytes against ggml's quantizer, metadata, HF input, atomic output. */
class ModelQuantizerTest {
    @TempDir
    Path tmp;

    /** Rows of 256 so the K-quants apply (and 512-wide ffn_down rows). */
    static final ModelFixtures.Spec SPEC = ModelFixtures.llama().withDims(256, 4, 2, 512);

    @Test
    void writesThePlannedTypesWithGgmlsBytesAndTheSourceMetadata() {
        Path src = ModelFixtures.writeGguf(SPEC, tmp.resolve("f32.gguf"), GgmlType.F32);
        Path out = tmp.resolve("q4_k_m.gguf");
        QuantizationPlan plan = ModelQuantizer.quantizeFile(src, out, QuantizationOptions.of(QuantPreset.Q4_K_M), null, null, null);
        assertThat(plan.tensors()).anyMatch(t -> t.targetType() == GgmlType.Q6_K).anyMatch(t -> t.targetType() == GgmlType.Q4_K);
        checkAgainstGgml(src, out, plan, null);
        try (GgufFile in = GgufFile.open(src); GgufFile q = GgufFile.open(out)) {
            Map<String, GgufValue> before = in.metadata(), after = q.metadata();
            for (var e : before.entrySet()) {
                if (e.getKey().equals("general.file_type")) continue;
                assertThat(after.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(after.get("general.file_type").asLong()).isEqualTo(15); // LLAMA_FTYPE_MOSTLY_Q4_K_M
            assertThat(after.get("general.quantization_version").asLong()).isEqualTo(2);
            assertThat(after).containsKey("tokenizer.chat_template").containsKey("tokenizer.ggml.tokens");
            List<String> order = q.tensorInfos().stream().map(GgufTensorInfo::name).toList();
            assertThat(order).isEqualTo(plan.tensors().stream().map(PlannedTensor::name).toList());
        }
        assertThat(siblings(out)).containsExactlyInAnyOrder("f32.gguf", "q4_k_m.gguf"); // no spool or temp file left
        try (LanguageModel m = ModelLoader.load(out)) {
            float[] logits = m.forward(m.newState(4), new int[]{1, 2, 3}, 0, 3, false);
            for (float v : logits) assertThat(v).isFinite();
        }
    }

    @Test
    void usesTheImportanceMatrixEntryOfEachTensor() {
        Path src = ModelFixtures.writeGguf(SPEC, tmp.resolve("f32.gguf"), GgmlType.F32);
        ImportanceMatrix im = syntheticImatrix(src, 5);
        for (QuantPreset p : List.of(QuantPreset.Q4_0, QuantPreset.Q5_K_S, QuantPreset.Q6_K)) {
            Path out = tmp.resolve(p + ".gguf");
            QuantizationPlan plan = ModelQuantizer.quantizeFile(src, out, new QuantizationOptions(p, List.of(), true), im,
                    Path.of("calib.imatrix.gguf"), null);
            checkAgainstGgml(src, out, plan, im);
            try (GgufFile q = GgufFile.open(out)) {
                assertThat(q.metadata().get("quantize.imatrix.file").asString()).isEqualTo("calib.imatrix.gguf");
                assertThat(q.metadata().get("quantize.imatrix.entries_count").asLong()).isEqualTo(im.entries().size());
                assertThat(q.metadata().get("quantize.imatrix.dataset").asString()).isEqualTo("synthetic");
            }
        }
    }

    @Test
    void aHuggingFaceDirectoryGivesWhatConvertThenQuantizeGives() throws IOException {
        Path hf = ModelFixtures.writeHf(SPEC, tmp.resolve("hf-bf16"), "BF16");
        Path direct = tmp.resolve("out/direct.gguf");
        Files.createDirectories(direct.getParent());
        ModelQuantizer.quantizeFile(hf, direct, QuantizationOptions.of(QuantPreset.Q5_K_M), null, null, null);
        Path converted = tmp.resolve("converted-bf16.gguf");
        HfToGgufConverter.convert(hf, converted, GgmlType.BF16);
        Path twoStep = tmp.resolve("two-step.gguf");
        ModelQuantizer.quantizeFile(converted, twoStep, QuantizationOptions.of(QuantPreset.Q5_K_M), null, null, null);
        assertThat(Files.mismatch(direct, twoStep)).as("first differing byte").isEqualTo(-1);
        assertThat(siblings(direct)).containsExactly("direct.gguf"); // the temp conversion is gone
    }

    @Test
    void aFailureLeavesNoPartialFileAndKeepsAnOldOne() throws IOException {
        // A NaN deep in the last layer: the quantizer fails after most tensors are done.
        Path src = tmp.resolve("nan.gguf");
        GgufWriter w = new GgufWriter();
        ModelFixtures.ggufMetadata(SPEC).forEach(w::put);
        for (var e : ModelFixtures.ggufTensors(SPEC, ModelFixtures.hfWeights(SPEC)).entrySet()) {
            float[] v = e.getValue();
            if (e.getKey().equals("blk.1.ffn_up.weight")) v[1000] = Float.NaN;
            w.addTensor(e.getKey(), ModelFixtures.ggufShape(SPEC, e.getKey(), v), v, GgmlType.F32);
        }
        w.write(src);
        Path out = tmp.resolve("out.gguf");
        Files.writeString(out, "old");
        assertThatThrownBy(() -> ModelQuantizer.quantizeFile(src, out, QuantizationOptions.of(QuantPreset.Q4_K_M), null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blk.1.ffn_up.weight").hasMessageContaining("NaN");
        assertThat(Files.readString(out)).isEqualTo("old");
        assertThat(siblings(out)).containsExactlyInAnyOrder("nan.gguf", "out.gguf");
    }

    @Test
    void anImatrixOfAnotherShapeIsRefused() {
        Path src = ModelFixtures.writeGguf(SPEC, tmp.resolve("f32.gguf"), GgmlType.F32);
        ImportanceMatrix wrong = new ImportanceMatrix(List.of("x"), 1, 1,
                Map.of("blk.0.attn_q.weight", new ImportanceMatrix.Entry(new float[64], new float[]{1})), false);
        assertThatThrownBy(() -> ModelQuantizer.quantizeFile(src, tmp.resolve("o.gguf"), QuantizationOptions.of(QuantPreset.Q4_0),
                wrong, null, null)).hasMessageContaining("blk.0.attn_q.weight").hasMessageContaining("64 values");
        assertThat(tmp.resolve("o.gguf")).doesNotExist();
    }

    /** Every output tensor: kept ones byte-equal to the source, quantized ones equal to ggml_quantize_chunk's bytes. */
    static void checkAgainstGgml(Path src, Path out, QuantizationPlan plan, ImportanceMatrix im) {
        try (GgufFile in = GgufFile.open(src); GgufFile q = GgufFile.open(out)) {
            for (PlannedTensor t : plan.tensors()) {
                GgufTensorInfo info = q.tensorInfo(t.name());
                assertThat(info.type()).as(t.name()).isEqualTo(t.targetType());
                byte[] got = q.tensorData(t.name()).toArray(ValueLayout.JAVA_BYTE);
                if (!t.quantized()) {
                    assertThat(got).as(t.name()).isEqualTo(in.tensorData(t.name()).toArray(ValueLayout.JAVA_BYTE));
                    continue;
                }
                FloatTensor s = in.tensor(t.name());
                float[] v = new float[(int) s.size()];
                s.copyTo(0, v, 0, v.length);
                float[] qw = null;
                if (im != null && im.entries().containsKey(t.name())) {
                    ImportanceMatrix.Entry e = im.entries().get(t.name());
                    qw = new float[e.sums().length];
                    for (int j = 0; j < qw.length; j++) qw[j] = e.sums()[j] / e.counts()[0]; // quantize.cpp load_imatrix
                }
                assertThat(got).as("%s as %s", t.name(), t.targetType()).isEqualTo(GgmlReference.quantize(t.targetType(), v, t.rowLength(), qw));
            }
        }
    }

    /** Entries for every blk.* matrix, positive sums with a few dominant columns. */
    static ImportanceMatrix syntheticImatrix(Path gguf, long seed) {
        Random r = new Random(seed);
        Map<String, ImportanceMatrix.Entry> entries = new TreeMap<>();
        try (GgufFile g = GgufFile.open(gguf)) {
            for (GgufTensorInfo t : g.tensorInfos()) {
                if (!t.name().startsWith("blk.") || t.shape().length < 2) continue;
                float[] sums = new float[(int) t.shape()[0]];
                for (int j = 0; j < sums.length; j++) sums[j] = (float) (r.nextDouble() * 100);
                for (int k = 0; k < 4; k++) sums[r.nextInt(sums.length)] = 20000;
                entries.put(t.name(), new ImportanceMatrix.Entry(sums, new float[]{512}));
            }
        }
        return new ImportanceMatrix(List.of("synthetic"), 4, 128, entries, false);
    }

    static List<String> siblings(Path file) {
        try (Stream<Path> s = Files.list(file.toAbsolutePath().getParent())) {
            List<String> names = new ArrayList<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            return names;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
