package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Named;
import ai.autoglm.core.testing.GlmReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * LoRA on GLM's fused layouts, against core's GLM reference forward over the transformers-native GlmForCausalLM
 * tensors with {@code scale * B A} merged in here. The same update is given two ways: on GlmForCausalLM's modules
 * ({@code q_proj}, {@code k_proj}, {@code v_proj}, fused {@code gate_up_proj}, {@code down_proj}) and on the remote-code
 * ChatGLMModel's ({@code query_key_value} with A stacked and B block-diagonal, {@code dense_h_to_4h},
 * {@code dense_4h_to_h}). Either must work on a GGUF that fuses q|k|v (llama.cpp's chatglm), one that splits them,
 * and the HF directories; a fused-qkv adapter on split q/k/v weights is refused.
 */
class GlmLoraLoadingTest {
    private static final int R = 2;
    private static final double SCALE = 2.0;

    @TempDir
    Path tmp;

    private static float[] random(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
        return v;
    }

    @Test
    void splitAndFusedAdaptersOnFusedAndSplitGlmWeights() {
        GlmFixtures.Spec s = GlmFixtures.glm4_9b();
        GlmFixtures.Weights w = GlmFixtures.weights(s);
        int d = s.dim(), q = s.qDim(), kv = s.kvDim(), ffn = s.ffn();
        Random rnd = new Random(31);
        Map<String, PeftAdapter.Module> split = new LinkedHashMap<>(), fused = new LinkedHashMap<>();
        Map<String, Named> merged = new LinkedHashMap<>(GlmFixtures.hfTensors(s, Layout.GLM_HF, w));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".", rp = "transformer.encoder.layers." + l + ".";
            float[][] a = new float[3][], b = new float[3][];
            int[] rows = {q, kv, kv};
            String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"};
            for (int j = 0; j < 3; j++) {
                a[j] = random(rnd, R * d, 1 / Math.sqrt(d));
                b[j] = random(rnd, rows[j] * R, 0.2);
                split.put(p + names[j], new PeftAdapter.Module(a[j], b[j], R, d, rows[j]));
                merge(merged, p + names[j] + ".weight", a[j], b[j], rows[j], d);
            }
            // query_key_value: A = [A_q; A_k; A_v] (rank 3R), B block-diagonal: (B A) restricted to q's rows is B_q A_q, etc.
            float[] aQkv = new float[3 * R * d], bQkv = new float[(q + 2 * kv) * 3 * R];
            int row0 = 0;
            for (int j = 0; j < 3; j++) {
                System.arraycopy(a[j], 0, aQkv, j * R * d, R * d);
                for (int o = 0; o < rows[j]; o++) {
                    for (int k = 0; k < R; k++) bQkv[(row0 + o) * 3 * R + j * R + k] = b[j][o * R + k];
                }
                row0 += rows[j];
            }
            fused.put(rp + "self_attention.query_key_value", new PeftAdapter.Module(aQkv, bQkv, 3 * R, d, q + 2 * kv));
            float[] aGu = random(rnd, R * d, 1 / Math.sqrt(d)), bGu = random(rnd, 2 * ffn * R, 0.2);
            split.put(p + "mlp.gate_up_proj", new PeftAdapter.Module(aGu, bGu, R, d, 2 * ffn));
            fused.put(rp + "mlp.dense_h_to_4h", new PeftAdapter.Module(aGu, bGu, R, d, 2 * ffn));
            merge(merged, p + "mlp.gate_up_proj.weight", aGu, bGu, 2 * ffn, d);
            float[] aDown = random(rnd, R * ffn, 1 / Math.sqrt(ffn)), bDown = random(rnd, d * R, 0.2);
            split.put(p + "mlp.down_proj", new PeftAdapter.Module(aDown, bDown, R, ffn, d));
            fused.put(rp + "mlp.dense_4h_to_h", new PeftAdapter.Module(aDown, bDown, R, ffn, d));
            merge(merged, p + "mlp.down_proj.weight", aDown, bDown, d, ffn);
        }
        Path splitDir = tmp.resolve("split-adapter"), fusedDir = tmp.resolve("fused-adapter");
        new PeftAdapter(LoraConfig.of(R, SCALE * R, List.of(), "glm"), split).write(splitDir);
        // the fused qkv module has rank 3R: rank_pattern / alpha_pattern give it its own r and alpha, same scale
        new PeftAdapter(new LoraConfig(R, SCALE * R, List.of(), 0, "none", false, false, false, "glm", "CAUSAL_LM", "LORA",
                Map.of("query_key_value", 3 * R), Map.of("query_key_value", SCALE * 3 * R), List.of()), fused).write(fusedDir);

        int[] tokens = GlmModelTest.TOKENS;
        double[][] ref = new GlmReferenceForward(s, Layout.GLM_HF, merged, tokens.length).run(tokens);
        Path ggufFused = GlmFixtures.writeGguf(s, Layout.CHATGLM_REMOTE, tmp.resolve("fused.gguf"));
        Path ggufSplit = GlmFixtures.writeGguf(s, Layout.GLM_HF, tmp.resolve("split.gguf"));
        Path hfDir = GlmFixtures.writeHf(s, Layout.GLM_HF, tmp.resolve("hf"));
        Path remoteDir = GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("remote"));
        check("q/k/v adapter on fused attn_qkv GGUF", ggufFused, splitDir, tokens, ref);
        check("q/k/v adapter on split GGUF", ggufSplit, splitDir, tokens, ref);
        check("q/k/v adapter on GlmForCausalLM dir", hfDir, splitDir, tokens, ref);
        check("query_key_value adapter on fused GGUF", ggufFused, fusedDir, tokens, ref);
        check("query_key_value adapter on remote-code dir", remoteDir, fusedDir, tokens, ref);
        assertThatThrownBy(() -> ModelLoader.load(ggufSplit, LoadOptions.defaults().withLora(fusedDir))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("attn_qkv").hasMessageContaining("does not have");
    }

    private static void merge(Map<String, Named> m, String name, float[] a, float[] b, int rows, int in) {
        Named n = m.get(name);
        float[] v = n.values().clone();
        for (int o = 0; o < rows; o++) {
            for (int i = 0; i < in; i++) {
                double dd = 0;
                for (int k = 0; k < R; k++) dd += (double) b[o * R + k] * a[k * in + i];
                v[o * in + i] = (float) (v[o * in + i] + SCALE * dd);
            }
        }
        m.put(name, new Named(v, n.shape()));
    }

    private static void check(String what, Path model, Path adapter, int[] tokens, double[][] ref) {
        try (LanguageModel m = ModelLoader.load(model, LoadOptions.defaults().withLora(adapter))) {
            assertRowsClose(what, m.forward(m.newState(tokens.length), tokens, 0, tokens.length, true), ref, 1e-4);
        }
    }
}
