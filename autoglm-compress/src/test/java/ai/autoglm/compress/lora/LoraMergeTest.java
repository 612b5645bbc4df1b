package ai.autoglm.compress.lora;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code lora merge} against applying the same adapter at load time (itself checked against an independent reference
 * in core's LoraLoadingTest): equal logits within the rounding of the merged weights' type, tensor types kept for
 * float bases, quantized ones widened to F16, untouched tensors copied byte for byte.
 */
class LoraMergeTest {
    @TempDir
    Path tmp;

    private Path adapter(ModelFixtures.Spec s, List<String> modules) {
        Random r = new Random(9);
        Map<String, PeftAdapter.Module> m = new LinkedHashMap<>();
        int rank = 4;
        for (int l = 0; l < s.layers(); l++) {
            for (String mod : modules) {
                String name = "model.layers." + l + "." + mod;
                long[] shape = ModelFixtures.hfShape(s, name + ".weight");
                int out = (int) shape[0], in = (int) shape[1];
                float[] a = new float[rank * in], b = new float[out * rank];
                for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() / Math.sqrt(in));
                for (int i = 0; i < b.length; i++) b[i] = (float) (0.2 * r.nextGaussian());
                m.put(name, new PeftAdapter.Module(a, b, rank, in, out));
            }
        }
        Path dir = tmp.resolve("adapter");
        new PeftAdapter(LoraConfig.of(rank, 8, List.of("q_proj", "k_proj", "down_proj"), "fixture"), m).write(dir);
        return dir;
    }

    private static double relativeDiff(LanguageModel x, LanguageModel y, int[] tokens) {
        float[] a = x.forward(x.newState(16), tokens, 0, tokens.length, true);
        float[] b = y.forward(y.newState(16), tokens, 0, tokens.length, true);
        double max = 0, diff = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        return diff / max;
    }

    /**
     * The merge is checked on the Java kernels (float activations): the native kernels quantize activations to 8 bits,
     * whose noise (NativeMatmulTest's bound) is larger than the merge's own re-quantization error this test bounds.
     */
    @Test
    void mergedEqualsAppliedAtLoadForFloatAndQuantizedBases() throws Exception {
        KernelChoice.Mode kernelsBefore = KernelChoice.mode();
        KernelChoice.set(KernelChoice.Mode.JAVA);
        try {
            mergedEqualsApplied();
        } finally {
            KernelChoice.set(kernelsBefore);
        }
    }

    private void mergedEqualsApplied() throws Exception {
        ModelFixtures.Spec s = ModelFixtures.llama();
        Path adapter = adapter(s, List.of("self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"));
        int[] tokens = {5, 17, 3, 40, 8, 22};
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0)) {
            Path base = ModelFixtures.writeGguf(s, tmp.resolve("base-" + type + ".gguf"), type);
            Path merged = tmp.resolve("merged-" + type + ".gguf");
            LoraMerge.Result result = LoraMerge.merge(base, adapter, merged);
            assertThat(result.merged()).hasSize(3 * s.layers()).contains("blk.0.attn_q.weight", "blk.1.ffn_down.weight");
            try (LanguageModel applied = ModelLoader.load(base, LoadOptions.defaults().withLora(adapter)); LanguageModel baked = ModelLoader.load(merged);
                 LanguageModel plain = ModelLoader.load(base)) {
                assertThat(relativeDiff(applied, baked, tokens)).as(type + " merged vs applied").isLessThan(type == GgmlType.F32 ? 1e-5 : 2e-3);
                assertThat(relativeDiff(applied, plain, tokens)).as("the adapter matters").isGreaterThan(1e-2);
            }
            try (GgufFile in = GgufFile.open(base); GgufFile out = GgufFile.open(merged)) {
                GgmlType expected = type == GgmlType.F32 ? GgmlType.F32 : GgmlType.F16;
                assertThat(out.tensorInfo("blk.0.attn_q.weight").type()).isEqualTo(expected);
                assertThat(out.tensorInfo("blk.0.attn_v.weight").type()).isEqualTo(type);
                assertThat(out.tensorData("blk.0.attn_v.weight").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                        .isEqualTo(in.tensorData("blk.0.attn_v.weight").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                assertThat(out.metadata().keySet()).containsAll(in.metadata().keySet());
                assertThat(result.widened()).hasSize(type == GgmlType.F32 ? 0 : 3 * s.layers());
            }
        }
    }

    @Test
    void hfDirectoryBaseIsRefusedWithAHint() throws Exception {
        ModelFixtures.Spec s = ModelFixtures.llama();
        Path adapter = adapter(s, List.of("self_attn.q_proj"));
        Path hf = ModelFixtures.writeHf(s, tmp.resolve("hf"));
        assertThatThrownBy(() -> LoraMerge.merge(hf, adapter, tmp.resolve("o.gguf"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("autoglm convert");
        assertThat(Files.exists(tmp.resolve("o.gguf"))).isFalse();
    }
}
