package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static ai.autoglm.core.model.LogitsAssert.relativeError;
import static ai.autoglm.core.model.LogitsAssert.toDouble;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine's F32 forward pass against the double-precision {@link ReferenceForward} on in-memory weights,
 * in both layouts. Tolerance 1e-4 of the largest logit: the engine accumulates in float (unit roundoff
 * 6e-8); a dot of n <= 160 terms errs by at most ~n*u relative to the sum of |terms| (Higham, Accuracy and
 * Stability, 3.1), about 1e-5, and a few such errors through two layers stay well below 1e-4, while any
 * real mistake (a wrong rope pair, a missing bias, a wrong KV head) moves logits by O(1).
 */
class TransformerModelTest {
    static final double TOL = 1e-4;

    static Stream<Arguments> specs() {
        return Stream.of(
                Arguments.of("llama", ModelFixtures.llama()),
                Arguments.of("llama tied", ModelFixtures.llamaTied()),
                Arguments.of("llama3 rope scaling", ModelFixtures.llama3Scaled()),
                Arguments.of("qwen2 bias", ModelFixtures.qwen2()),
                Arguments.of("llama MHA", ModelFixtures.llama().withDims(64, 4, 4, 160)),
                Arguments.of("llama MQA", ModelFixtures.llama().withDims(64, 4, 1, 160)));
    }

    static int[] prompt(int n, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(ModelFixtures.VOCAB_SIZE);
        return t;
    }

    static TransformerModel hfModel(Spec s, Map<String, float[]> w) {
        ModelConfig c = ModelConfig.fromHfConfig(ModelFixtures.hfConfig(s));
        return new TransformerModel(c, ModelFixtures.hfLayout(s, w), null, null, null);
    }

    static TransformerModel ggufModel(Spec s, Map<String, float[]> w) {
        MapWeightSource src = ModelFixtures.ggufLayout(s, w);
        ModelConfig c = ModelConfig.fromGguf(ModelFixtures.ggufMetadata(s), src);
        return new TransformerModel(c, src, null, null, null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void everyPositionMatchesTheReferenceInBothLayouts(String name, Spec s) {
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        int[] tokens = prompt(12, s.seed());
        double[][] ref = new ReferenceForward(s, w, tokens.length).run(tokens);

        TransformerModel hf = hfModel(s, w);
        float[] hfLogits = hf.forward(hf.newState(32), tokens, 0, tokens.length, true);
        assertRowsClose(name + " (HF layout, NEOX)", hfLogits, ref, TOL);

        TransformerModel gguf = ggufModel(s, w);
        assertThat(gguf.config().ropeStyle()).isEqualTo(s.arch().equals("llama") ? RopeStyle.NORMAL : RopeStyle.NEOX);
        float[] ggufLogits = gguf.forward(gguf.newState(32), tokens, 0, tokens.length, true);
        assertRowsClose(name + " (GGUF layout)", ggufLogits, ref, TOL);
    }

    /**
     * The code paths the GLM family needs (fused q|k|v with bias, fused gate|up, post-attention and post-MLP
     * norms, partial rotary) on a test-only architecture row, against the reference reading the same weights
     * split, with GLM-4-0414's post-norms and the first half of each head rotating.
     */
    @Test
    void fusedProjectionsPostNormsAndPartialRotaryMatchTheReference() {
        Spec s = ModelFixtures.qwen2();
        Map<String, float[]> w = new java.util.LinkedHashMap<>(ModelFixtures.hfWeights(s));
        Random r = new Random(9);
        for (int l = 0; l < s.layers(); l++) {
            for (String norm : new String[]{"post_self_attn_layernorm", "post_mlp_layernorm"}) {
                float[] v = new float[s.dim()];
                for (int i = 0; i < v.length; i++) v[i] = (float) (1 + 0.2 * r.nextGaussian());
                w.put("model.layers." + l + "." + norm + ".weight", v);
            }
        }
        Architecture fused = new Architecture("test-fused", java.util.List.of(), RopeStyle.NEOX, RopeStyle.NEOX, true, true, true, true);
        int hd = s.headDim(), rot = hd / 2, qkvRows = (s.heads() + 2 * s.kvHeads()) * hd;
        ModelConfig c = new ModelConfig(fused, s.dim(), s.layers(), s.heads(), s.kvHeads(), hd, s.ffn(), s.vocab(), s.context(),
                s.rmsEps(), s.ropeTheta(), RopeStyle.NEOX, rot, null, true, true);
        MapWeightSource src = new MapWeightSource();
        src.put("token_embd.weight", new ArrayFloatTensor(w.get("model.embed_tokens.weight")), s.dim(), s.vocab());
        src.put("output_norm.weight", new ArrayFloatTensor(w.get("model.norm.weight")), s.dim());
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".", b = "blk." + l + ".";
            src.put(b + "attn_norm.weight", new ArrayFloatTensor(w.get(p + "input_layernorm.weight")), s.dim());
            src.put(b + "attn_qkv.weight", new ArrayFloatTensor(concat(w.get(p + "self_attn.q_proj.weight"),
                    w.get(p + "self_attn.k_proj.weight"), w.get(p + "self_attn.v_proj.weight"))), s.dim(), qkvRows);
            src.put(b + "attn_qkv.bias", new ArrayFloatTensor(concat(w.get(p + "self_attn.q_proj.bias"),
                    w.get(p + "self_attn.k_proj.bias"), w.get(p + "self_attn.v_proj.bias"))), qkvRows);
            src.put(b + "attn_output.weight", new ArrayFloatTensor(w.get(p + "self_attn.o_proj.weight")), s.heads() * hd, s.dim());
            src.put(b + "post_attention_norm.weight", new ArrayFloatTensor(w.get(p + "post_self_attn_layernorm.weight")), s.dim());
            src.put(b + "ffn_norm.weight", new ArrayFloatTensor(w.get(p + "post_attention_layernorm.weight")), s.dim());
            src.put(b + "ffn_up.weight", new ArrayFloatTensor(concat(w.get(p + "mlp.gate_proj.weight"), w.get(p + "mlp.up_proj.weight"))), s.dim(), 2 * s.ffn());
            src.put(b + "ffn_down.weight", new ArrayFloatTensor(w.get(p + "mlp.down_proj.weight")), s.ffn(), s.dim());
            src.put(b + "post_ffw_norm.weight", new ArrayFloatTensor(w.get(p + "post_mlp_layernorm.weight")), s.dim());
        }
        TransformerModel m = new TransformerModel(c, src, null, null, null);
        int[] tokens = prompt(10, 11);
        double[][] ref = new ReferenceForward(s, w, tokens.length, rot).run(tokens);
        assertRowsClose("fused/post-norm/partial rotary", m.forward(m.newState(16), tokens, 0, tokens.length, true), ref, TOL);
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @Test
    void configsFromBothLayoutsAgree() {
        Spec s = ModelFixtures.llama3Scaled();
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        ModelConfig hf = hfModel(s, w).config();
        ModelConfig gguf = ggufModel(s, w).config();
        assertThat(hf.ropeScaling()).isInstanceOf(RopeScaling.Llama3.class);
        assertThat(gguf.ropeScaling()).isInstanceOf(RopeScaling.FreqFactors.class);
        double[] a = hf.ropeInvFreq(), b = gguf.ropeInvFreq();
        for (int i = 0; i < a.length; i++) assertThat(b[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(a[i] * 1e-6));
        assertThat(gguf.tiedEmbeddings()).isFalse();
        assertThat(ggufModel(ModelFixtures.qwen2(), ModelFixtures.hfWeights(ModelFixtures.qwen2())).config().tiedEmbeddings()).isTrue();
        assertThat(ggufModel(ModelFixtures.qwen2(), ModelFixtures.hfWeights(ModelFixtures.qwen2())).config().qkvBias()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void batchedPrefillEqualsTokenByTokenDecode(String name, Spec s) {
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        TransformerModel m = ggufModel(s, w);
        // 70 tokens: more than one internal chunk of MAX_BATCH, so chunk boundaries are crossed too.
        int[] tokens = prompt(70, s.seed() + 1);
        float[] batched = m.forward(m.newState(80), tokens, 0, tokens.length, true);

        InferenceState st = m.newState(80);
        int vocab = m.config().vocabSize();
        for (int i = 0; i < tokens.length; i++) {
            float[] row = m.forward(st, tokens, i, 1, false);
            assertThat(relativeError(batched, i * vocab, toDouble(row, 0, vocab))).as("position %d", i).isLessThanOrEqualTo(1e-6);
        }
        assertThat(st.position()).isEqualTo(70);

        // Mixed: a chunk of 5, then singles, then a chunk of 3, last-row logits only.
        InferenceState mixed = m.newState(80);
        m.forward(mixed, tokens, 0, 5, false);
        m.forward(mixed, tokens, 5, 1, false);
        float[] last = m.forward(mixed, tokens, 6, 3, false);
        assertThat(relativeError(batched, 8 * vocab, toDouble(last, 0, vocab))).isLessThanOrEqualTo(1e-6);
    }

    /**
     * The block kernels (decode dot and the register-blocked prefill {@code dotMany}) inside the whole forward pass,
     * on one thread and on three (an odd split of every matmul's rows and of the heads): a model whose matrices are
     * F16 / Q8_0 / Q4_0 views over quantized bytes, against the reference run on the same weights dequantized by
     * {@code getFloat}. Widened width (ffn 224, 7 blocks of 32) and 20 tokens, so matmuls are big enough to be
     * split and chunks hold whole passes of four tokens plus a remainder. (Not bit-equal across runs: the Vector API's
     * float lane reduction order differs between its interpreted fallback and the JIT-compiled intrinsic.)
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = GgmlType.class, names = {"F16", "Q8_0", "Q4_0"})
    void quantizedBlocksOnOneAndThreeThreadsMatchTheReference(GgmlType type) {
        Spec s = ModelFixtures.llama().withDims(128, 4, 2, 224).withSeed(60 + type.id);
        Map<String, float[]> gguf = ModelFixtures.ggufTensors(s, ModelFixtures.hfWeights(s));
        MapWeightSource src = new MapWeightSource();
        Map<String, float[]> dequantized = new LinkedHashMap<>();
        for (var e : gguf.entrySet()) {
            long[] shape = ModelFixtures.ggufShape(s, e.getKey(), e.getValue());
            float[] v = e.getValue();
            FloatTensor t = shape.length == 2 ? Tensors.view(type, Quantizer.quantize(type, v), v.length) : new ArrayFloatTensor(v);
            float[] back = new float[v.length];
            t.copyTo(0, back, 0, v.length);
            dequantized.put(e.getKey(), back);
            src.put(e.getKey(), t, shape);
        }
        TransformerModel m = new TransformerModel(ModelConfig.fromGguf(ModelFixtures.ggufMetadata(s), src), src, null, null, null);
        int[] tokens = prompt(20, s.seed());
        double[][] ref = new ReferenceForward(s, ModelFixtures.hfFromGguf(s, dequantized), tokens.length).run(tokens);
        int before = ComputeThreads.count();
        // The Java kernels, float activations (the 1e-4 bound): the native kernels' 8-bit activations, Q4_0/Q8_0 at
        // every token count since they are packed, have their own bound in QuantizedModelTest / NativeMatmulTest.
        ai.autoglm.core.tensor.KernelChoice.Mode modeBefore = ai.autoglm.core.tensor.KernelChoice.mode();
        try {
            ai.autoglm.core.tensor.KernelChoice.set(ai.autoglm.core.tensor.KernelChoice.Mode.JAVA);
            ComputeThreads.set(1);
            float[] one = m.forward(m.newState(32), tokens, 0, tokens.length, true);
            ComputeThreads.set(3);
            float[] three = m.forward(m.newState(32), tokens, 0, tokens.length, true);
            assertRowsClose(type + " one thread", one, ref, TOL);
            assertRowsClose(type + " three threads", three, ref, TOL);
        } finally {
            ComputeThreads.set(before);
            ai.autoglm.core.tensor.KernelChoice.set(modeBefore);
        }
    }

    @Test
    void rewindRecomputesTheSameLogits() {
        Spec s = ModelFixtures.qwen2();
        TransformerModel m = hfModel(s, ModelFixtures.hfWeights(s));
        int[] tokens = prompt(10, 7);
        InferenceState st = m.newState(16);
        float[] first = m.forward(st, tokens, 0, 10, true);
        st.rewind(4);
        float[] again = m.forward(st, tokens, 4, 6, true);
        int vocab = m.config().vocabSize();
        for (int i = 0; i < 6; i++) {
            assertThat(relativeError(again, i * vocab, toDouble(first, (i + 4) * vocab, vocab))).isLessThanOrEqualTo(1e-6);
        }
        assertThatThrownBy(() -> st.rewind(11)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void contextOverflowIsAClearError() {
        Spec s = ModelFixtures.llama();
        TransformerModel m = hfModel(s, ModelFixtures.hfWeights(s));
        InferenceState st = m.newState(10);
        int[] tokens = prompt(11, 3);
        m.forward(st, tokens, 0, 8, false);
        assertThatThrownBy(() -> m.forward(st, tokens, 8, 3, false))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessage("prompt of 8 tokens plus 3 new exceeds the context of 10");
        assertThat(st.position()).isEqualTo(8);
        assertThatThrownBy(() -> m.newState(s.context() + 1))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessageContaining("exceeds the context of " + s.context());
        assertThatThrownBy(() -> m.checkFits(100, 29))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessage("prompt of 100 tokens plus 29 new exceeds the context of 128");
        m.checkFits(100, 28);
        assertThatThrownBy(() -> m.forward(m.newState(4), new int[]{ModelFixtures.VOCAB_SIZE}, 0, 1, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
    }

    @Test
    void missingOrMisshapenTensorsAreFormatErrors() {
        Spec s = ModelFixtures.llama();
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        ModelConfig c = ModelConfig.fromHfConfig(ModelFixtures.hfConfig(s));

        MapWeightSource missing = new MapWeightSource();
        ModelFixtures.hfLayout(s, w).names().stream().filter(n -> !n.equals("blk.1.ffn_down.weight"))
                .forEach(n -> missing.put(n, ModelFixtures.hfLayout(s, w).tensor(n), ModelFixtures.hfLayout(s, w).shape(n)));
        assertThatThrownBy(() -> new TransformerModel(c, missing, null, null, null))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("missing tensor blk.1.ffn_down.weight");

        MapWeightSource wrong = ModelFixtures.hfLayout(s, w);
        wrong.put("blk.0.attn_k.weight", new ArrayFloatTensor(new float[64 * 64]), 64, 64);
        assertThatThrownBy(() -> new TransformerModel(c, wrong, null, null, null))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("blk.0.attn_k.weight has shape [64, 64], expected [64, 32]");

        MapWeightSource noOutput = ModelFixtures.ggufLayout(ModelFixtures.llamaTied(), ModelFixtures.hfWeights(ModelFixtures.llamaTied()));
        assertThatThrownBy(() -> new TransformerModel(c, noOutput, null, null, null))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("output.weight");
    }
}
