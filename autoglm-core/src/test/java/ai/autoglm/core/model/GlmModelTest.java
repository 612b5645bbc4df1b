package ai.autoglm.core.model;

import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Spec;
import ai.autoglm.core.testing.GlmReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GLM family end to end from files: one set of random weights written as THUDM's remote-code directory, as a
 * transformers GlmForCausalLM (-hf) directory and as the GGUF files llama.cpp makes from each, loaded through
 * {@link ModelLoader}: every layout gives the logits of {@link GlmReferenceForward} (written from modeling_chatglm.py /
 * modeling_glm.py / modeling_glm4.py) and the same logits as every other layout, within 1e-4 of the largest logit
 * (float32 accumulation over rows of at most 2*96 products, as TransformerModelTest derives for the other families).
 */
class GlmModelTest {
    @TempDir
    Path tmp;

    /** A GLM-4 chat prefix and some text and padding-free ids, long enough to exercise rotation at several positions. */
    static final int[] TOKENS = {GlmFixtures.GMASK_ID, GlmFixtures.SOP_ID, GlmFixtures.USER_ID, 10, 104, 101, 108, 108, 111,
            GlmFixtures.ASSISTANT_ID, 10, 119, 263, 32, 200, 7, GlmFixtures.OBSERVATION_ID, 77};

    static Stream<Arguments> chatGlmShapes() {
        return Stream.of(Arguments.of("ChatGLM3-6B shape", GlmFixtures.chatglm3()),
                Arguments.of("GLM-4-9B shape", GlmFixtures.glm4_9b()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chatGlmShapes")
    void remoteCodeHfAndGgufLayoutsGiveTheSameReferenceLogits(String name, Spec s) {
        var weights = GlmFixtures.weights(s);
        double[][] ref = new GlmReferenceForward(s, Layout.CHATGLM_REMOTE, GlmFixtures.hfTensors(s, Layout.CHATGLM_REMOTE, weights), TOKENS.length).run(TOKENS);
        double[][] refHf = new GlmReferenceForward(s, Layout.GLM_HF, GlmFixtures.hfTensors(s, Layout.GLM_HF, weights), TOKENS.length).run(TOKENS);
        // the two reference paths read differently named, differently fused tensors and must agree to rounding
        for (int t = 0; t < TOKENS.length; t++) {
            assertThat(LogitsAssert.relativeError(toFloat(refHf[t]), 0, ref[t])).isLessThan(1e-6);
        }

        Path remote = GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("remote"));
        Path hf = GlmFixtures.writeHf(s, Layout.GLM_HF, tmp.resolve("hf"));
        Path ggufFused = GlmFixtures.writeGguf(s, Layout.CHATGLM_REMOTE, tmp.resolve("fused.gguf"));
        Path ggufSplit = GlmFixtures.writeGguf(s, Layout.GLM_HF, tmp.resolve("split.gguf"));

        float[] fromRemote = logits(remote, s);
        float[] fromHf = logits(hf, s);
        float[] fromGgufFused = logits(ggufFused, s);
        float[] fromGgufSplit = logits(ggufSplit, s);
        assertRowsClose(name + " remote-code dir", fromRemote, ref, 1e-4);
        assertRowsClose(name + " -hf dir", fromHf, ref, 1e-4);
        assertRowsClose(name + " GGUF (attn_qkv)", fromGgufFused, ref, 1e-4);
        assertRowsClose(name + " GGUF (attn_q/k/v)", fromGgufSplit, ref, 1e-4);
        double[][] remoteRows = rows(fromRemote, s.paddedVocab());
        assertRowsClose(name + " -hf vs remote", fromHf, remoteRows, 1e-4);
        assertRowsClose(name + " GGUF vs remote", fromGgufFused, remoteRows, 1e-4);
        assertRowsClose(name + " split GGUF vs remote", fromGgufSplit, remoteRows, 1e-4);
    }

    @Test
    void glm4_0414PostNormsFromHfAndGguf() {
        Spec s = GlmFixtures.glm4_0414();
        var hfTensors = GlmFixtures.hfTensors(s, Layout.GLM4_HF, GlmFixtures.weights(s));
        double[][] ref = new GlmReferenceForward(s, Layout.GLM4_HF, hfTensors, TOKENS.length).run(TOKENS);
        // without the sandwich norms the reference is a different function: the test can tell them apart
        var withoutPostNorms = new java.util.LinkedHashMap<>(hfTensors);
        withoutPostNorms.keySet().removeIf(k -> k.contains("post_self_attn") || k.contains("post_mlp"));
        double[][] refPlain = new GlmReferenceForward(s, Layout.GLM_HF, withoutPostNorms, TOKENS.length).run(TOKENS);
        assertThat(LogitsAssert.relativeError(toFloat(refPlain[TOKENS.length - 1]), 0, ref[TOKENS.length - 1])).isGreaterThan(1e-2);

        Path hf = GlmFixtures.writeHf(s, Layout.GLM4_HF, tmp.resolve("0414"));
        Path gguf = GlmFixtures.writeGguf(s, Layout.GLM4_HF, tmp.resolve("0414.gguf"));
        assertRowsClose("0414 HF dir", logits(hf, s), ref, 1e-4);
        assertRowsClose("0414 GGUF", logits(gguf, s), ref, 1e-4);
    }

    @Test
    void configsOfEachLayoutAgree() {
        Spec s = GlmFixtures.chatglm3();
        try (LanguageModel remote = ModelLoader.load(GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("r")));
             LanguageModel gguf = ModelLoader.load(GlmFixtures.writeGguf(s, Layout.CHATGLM_REMOTE, tmp.resolve("r.gguf")))) {
            for (ModelConfig c : new ModelConfig[]{remote.config(), gguf.config()}) {
                assertThat(c.architecture()).isEqualTo(Architecture.CHATGLM);
                assertThat(c.heads()).isEqualTo(8);
                assertThat(c.kvHeads()).isEqualTo(2); // multi_query_group_num
                assertThat(c.headDim()).isEqualTo(8);
                assertThat(c.rotaryDim()).isEqualTo(4);
                assertThat(c.ropeTheta()).isEqualTo(500000.0); // 10000 * rope_ratio 50
                assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NORMAL);
                assertThat(c.vocabSize()).isEqualTo(s.paddedVocab());
                assertThat(c.contextLength()).isEqualTo(256);
                assertThat(c.qkvBias()).isTrue();
                assertThat(c.rmsEps()).isEqualTo(1e-5f);
            }
            // The tokenizer sees GLM-4's special tokens as single ids, and the chat template comes along.
            assertThat(remote.tokenizer().encode("[gMASK]<sop><|user|>\nhello", true))
                    .startsWith(GlmFixtures.GMASK_ID, GlmFixtures.SOP_ID, GlmFixtures.USER_ID);
            assertThat(gguf.tokenizer().encode("[gMASK]<sop><|user|>\nhello", true))
                    .isEqualTo(remote.tokenizer().encode("[gMASK]<sop><|user|>\nhello", true));
            assertThat(remote.chatTemplate()).contains(GlmFixtures.CHAT_TEMPLATE);
            assertThat(gguf.chatTemplate()).contains(GlmFixtures.CHAT_TEMPLATE);
        }
    }

    /** All logits, the prompt in two chunks (prefill then the rest one token at a time) so the KV cache is used. */
    private static float[] logits(Path model, Spec s) {
        try (LanguageModel m = ModelLoader.load(model)) {
            int vocab = m.config().vocabSize();
            assertThat(vocab).isEqualTo(s.paddedVocab());
            InferenceState st = m.newState(32);
            float[] all = new float[TOKENS.length * vocab];
            int split = 11;
            System.arraycopy(m.forward(st, TOKENS, 0, split, true), 0, all, 0, split * vocab);
            for (int t = split; t < TOKENS.length; t++) {
                System.arraycopy(m.forward(st, TOKENS, t, 1, true), 0, all, t * vocab, vocab);
            }
            return all;
        }
    }

    private static double[][] rows(float[] flat, int vocab) {
        double[][] r = new double[flat.length / vocab][];
        for (int t = 0; t < r.length; t++) r[t] = LogitsAssert.toDouble(flat, t * vocab, vocab);
        return r;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
