package ai.autoglm.core.testing;

import java.util.Map;

/**
 * A plain double-precision forward pass for the GLM family, one token at a time, top to bottom like llama2.c's run.c,
 * reading the HF weights of each layout by their own names. Written from the reference modeling code, sharing nothing
 * with the engine:
 * <ul>
 *   <li>remote code (THUDM chatglm3-6b / glm-4-9b-chat modeling_chatglm.py): {@code query_key_value} output split into
 *       q (heads*kv_channels), k and v (multi_query_group_num*kv_channels each); RotaryEmbedding(kv_channels // 2) gives
 *       kv_channels/4 frequencies {@code base^(-2i/(kv_channels/2))} with base {@code 10000 * rope_ratio}, and
 *       apply_rotary_pos_emb rotates {@code rot_dim = kv_channels/2} leading dims as pairs (x[2i], x[2i+1]) reshaped to
 *       (..., rot_dim/2, 2); keys/values expanded per group; swiglu = silu(first half) * second half of dense_h_to_4h;
 *       RMSNorm {@code x * rsqrt(mean(x^2) + eps) * w}; final_layernorm then output_layer;</li>
 *   <li>-hf and 0414 (transformers modeling_glm.py / modeling_glm4.py): q/k/v projections; cos/sin of
 *       inv_freq = theta^(-2i/rotary_dim), rotary_dim = head_dim * partial_rotary_factor, repeat_interleave(2) and
 *       rotate_half over x[..., 0::2], x[..., 1::2], which is the same pairing; gate_up_proj chunked gate|up; for
 *       Glm4DecoderLayer, post_self_attn_layernorm on the attention output and post_mlp_layernorm on the MLP output
 *       before each residual add.</li>
 * </ul>
 */
public final class GlmReferenceForward {
    private final GlmFixtures.Spec s;
    private final GlmFixtures.Layout layout;
    private final Map<String, GlmFixtures.Named> w;
    private final double[][] keyCache;
    private final double[][] valueCache;
    private int pos;

    public GlmReferenceForward(GlmFixtures.Spec spec, GlmFixtures.Layout layout, Map<String, GlmFixtures.Named> hfWeights, int maxTokens) {
        this.s = spec;
        this.layout = layout;
        this.w = hfWeights;
        keyCache = new double[spec.layers()][maxTokens * spec.kvDim()];
        valueCache = new double[spec.layers()][maxTokens * spec.kvDim()];
    }

    /** The logits after each of {@code tokens}, continuing from the tokens run before. */
    public double[][] run(int[] tokens) {
        double[][] out = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) out[i] = step(tokens[i]);
        return out;
    }

    private boolean remote() {
        return layout == GlmFixtures.Layout.CHATGLM_REMOTE;
    }

    private float[] get(String name) {
        GlmFixtures.Named n = w.get(name);
        return n == null ? null : n.values();
    }

    private double[] step(int token) {
        int dim = s.dim(), hd = s.headDim(), nh = s.heads(), nkv = s.kvHeads(), ffn = s.ffn();
        int qDim = nh * hd, kvDim = nkv * hd;
        double[] x = new double[dim];
        float[] emb = get(remote() ? "transformer.embedding.word_embeddings.weight" : "model.embed_tokens.weight");
        for (int i = 0; i < dim; i++) x[i] = emb[token * dim + i];

        for (int l = 0; l < s.layers(); l++) {
            String p = remote() ? "transformer.encoder.layers." + l + "." : "model.layers." + l + ".";
            double[] h = rmsnorm(x, get(p + "input_layernorm.weight"));
            double[] q, k, v;
            if (remote()) {
                double[] mixed = linear(h, get(p + "self_attention.query_key_value.weight"), qDim + 2 * kvDim,
                        get(p + "self_attention.query_key_value.bias"));
                q = slice(mixed, 0, qDim);
                k = slice(mixed, qDim, kvDim);
                v = slice(mixed, qDim + kvDim, kvDim);
            } else {
                q = linear(h, get(p + "self_attn.q_proj.weight"), qDim, get(p + "self_attn.q_proj.bias"));
                k = linear(h, get(p + "self_attn.k_proj.weight"), kvDim, get(p + "self_attn.k_proj.bias"));
                v = linear(h, get(p + "self_attn.v_proj.weight"), kvDim, get(p + "self_attn.v_proj.bias"));
            }
            for (int head = 0; head < nh; head++) rotateAdjacentPairs(q, head * hd);
            for (int head = 0; head < nkv; head++) rotateAdjacentPairs(k, head * hd);
            System.arraycopy(k, 0, keyCache[l], pos * kvDim, kvDim);
            System.arraycopy(v, 0, valueCache[l], pos * kvDim, kvDim);

            double[] attn = ReferenceAttention.attend(q, keyCache[l], valueCache[l], pos, nh, nkv, hd);
            double[] o = linear(attn, get(p + (remote() ? "self_attention.dense.weight" : "self_attn.o_proj.weight")), dim, null);
            if (layout == GlmFixtures.Layout.GLM4_HF) o = rmsnorm(o, get(p + "post_self_attn_layernorm.weight"));
            for (int i = 0; i < dim; i++) x[i] += o[i];

            h = rmsnorm(x, get(p + "post_attention_layernorm.weight"));
            double[] gateUp = linear(h, get(p + (remote() ? "mlp.dense_h_to_4h.weight" : "mlp.gate_up_proj.weight")), 2 * ffn, null);
            double[] act = new double[ffn];
            for (int i = 0; i < ffn; i++) {
                double g = gateUp[i];
                act[i] = g / (1 + Math.exp(-g)) * gateUp[ffn + i];
            }
            double[] down = linear(act, get(p + (remote() ? "mlp.dense_4h_to_h.weight" : "mlp.down_proj.weight")), dim, null);
            if (layout == GlmFixtures.Layout.GLM4_HF) down = rmsnorm(down, get(p + "post_mlp_layernorm.weight"));
            for (int i = 0; i < dim; i++) x[i] += down[i];
        }
        x = rmsnorm(x, get(remote() ? "transformer.encoder.final_layernorm.weight" : "model.norm.weight"));
        double[] logits = linear(x, get(remote() ? "transformer.output_layer.weight" : "lm_head.weight"), s.paddedVocab(), null);
        pos++;
        return logits;
    }

    /** Pairs (2i, 2i+1) of the first rotaryDim dims turn by pos * base^(-2i/rotaryDim); the rest pass through. */
    private void rotateAdjacentPairs(double[] v, int off) {
        int rot = s.rotaryDim();
        for (int i = 0; i < rot / 2; i++) {
            double angle = pos / Math.pow(s.ropeTheta(), 2.0 * i / rot);
            double a = v[off + 2 * i], b = v[off + 2 * i + 1];
            v[off + 2 * i] = a * Math.cos(angle) - b * Math.sin(angle);
            v[off + 2 * i + 1] = b * Math.cos(angle) + a * Math.sin(angle);
        }
    }

    private double[] rmsnorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + s.eps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * r * weight[i];
        return out;
    }

    private static double[] slice(double[] v, int from, int n) {
        double[] out = new double[n];
        System.arraycopy(v, from, out, 0, n);
        return out;
    }

    /** y = W x (+ b) with W [out][in] row-major (torch.nn.Linear). */
    private static double[] linear(double[] x, float[] weight, int out, float[] bias) {
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double sum = bias != null ? bias[o] : 0;
            for (int i = 0; i < in; i++) sum += weight[o * in + i] * x[i];
            y[o] = sum;
        }
        return y;
    }
}
