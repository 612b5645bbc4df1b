package ai.autoglm.core.testing;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A deliberately plain forward pass for Llama and Qwen2 in double precision, written like llama2.c's
 * run.c: one token at a time, top to bottom, HF conventions throughout (weights by HF name with HF shapes
 * {@code [out][in]}, rotate-half rope on unpermuted q/k rows as modeling_llama.py {@code apply_rotary_pos_emb},
 * Llama 3.1 frequencies from modeling_rope_utils.py {@code _compute_llama3_parameters}). It shares no code
 * with the engine: it is the independent reference the engine's logits are checked against.
 */
public final class ReferenceForward {
    private final ModelFixtures.Spec s;
    private final Map<String, float[]> w;
    private final double[][] keyCache;   // [layer][pos * kvDim + ...]
    private final double[][] valueCache;
    private final double[] invFreq;
    private final int rotaryDim;
    private int pos;
    private BiConsumer<String, double[]> linearInputs = (name, x) -> { };

    public ReferenceForward(ModelFixtures.Spec spec, Map<String, float[]> hfWeights, int maxTokens) {
        this(spec, hfWeights, maxTokens, spec.headDim());
    }

    /**
     * With partial rotary: only the first {@code rotaryDim} dimensions of each head rotate, pairs
     * (i, i + rotaryDim/2) at frequency 1/theta^(2i/rotaryDim) (HF {@code partial_rotary_factor}). Post-norms
     * are applied when the weights hold GLM-4-0414's {@code post_self_attn_layernorm} / {@code post_mlp_layernorm}
     * (modeling_glm4.py Glm4DecoderLayer).
     */
    public ReferenceForward(ModelFixtures.Spec spec, Map<String, float[]> hfWeights, int maxTokens, int rotaryDim) {
        this.s = spec;
        this.rotaryDim = rotaryDim;
        this.w = hfWeights;
        int kvDim = spec.kvHeads() * spec.headDim();
        keyCache = new double[spec.layers()][maxTokens * kvDim];
        valueCache = new double[spec.layers()][maxTokens * kvDim];
        invFreq = inverseFrequencies(spec, rotaryDim);
    }

    /**
     * Calls {@code hook} with the HF weight name and the input vector of every linear map as it runs (the vector is
     * the reference's own: do not modify it), e.g. to recompute calibration statistics independently.
     */
    public ReferenceForward onLinearInput(BiConsumer<String, double[]> hook) {
        this.linearInputs = hook;
        return this;
    }

    /** The logits after each token of {@code tokens}, continuing from the tokens run before. */
    public double[][] run(int[] tokens) {
        double[][] out = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) out[i] = step(tokens[i]);
        return out;
    }

    /** HF default rope frequencies 1/theta^(2i/d), then the llama3 rule when configured. */
    static double[] inverseFrequencies(ModelFixtures.Spec s, int d) {
        double[] f = new double[d / 2];
        for (int i = 0; i < f.length; i++) f[i] = 1.0 / Math.pow(s.ropeTheta(), 2.0 * i / d);
        ModelFixtures.Llama3Scaling sc = s.llama3();
        if (sc != null) {
            double oldContext = sc.originalMaxPositions();
            double lowFreqWavelen = oldContext / sc.lowFreqFactor();
            double highFreqWavelen = oldContext / sc.highFreqFactor();
            for (int i = 0; i < f.length; i++) {
                double wavelen = 2 * Math.PI / f[i];
                // torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
                double scaled = wavelen > lowFreqWavelen ? f[i] / sc.factor() : f[i];
                double smooth = (oldContext / wavelen - sc.lowFreqFactor()) / (sc.highFreqFactor() - sc.lowFreqFactor());
                double smoothed = (1 - smooth) * scaled / sc.factor() + smooth * scaled;
                boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
                f[i] = medium ? smoothed : scaled;
            }
        }
        return f;
    }

    private double[] step(int token) {
        int dim = s.dim(), hd = s.headDim(), nh = s.heads(), nkv = s.kvHeads(), ffn = s.ffn();
        int qDim = nh * hd, kvDim = nkv * hd;
        double[] x = new double[dim];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < dim; i++) x[i] = emb[token * dim + i];

        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[] h = rmsnorm(x, w.get(p + "input_layernorm.weight"));
            for (String m : new String[]{"q_proj", "k_proj", "v_proj"}) linearInputs.accept(p + "self_attn." + m + ".weight", h);
            double[] q = linear(h, w.get(p + "self_attn.q_proj.weight"), qDim, w.get(p + "self_attn.q_proj.bias"));
            double[] k = linear(h, w.get(p + "self_attn.k_proj.weight"), kvDim, w.get(p + "self_attn.k_proj.bias"));
            double[] v = linear(h, w.get(p + "self_attn.v_proj.weight"), kvDim, w.get(p + "self_attn.v_proj.bias"));

            // rotate_half: q*cos + rotate_half(q)*sin, pairs (i, i + hd/2) sharing frequency i.
            for (int head = 0; head < nh; head++) rotateHalf(q, head * hd, rotaryDim);
            for (int head = 0; head < nkv; head++) rotateHalf(k, head * hd, rotaryDim);
            System.arraycopy(k, 0, keyCache[l], pos * kvDim, kvDim);
            System.arraycopy(v, 0, valueCache[l], pos * kvDim, kvDim);

            double[] attn = ReferenceAttention.attend(q, keyCache[l], valueCache[l], pos, nh, nkv, hd);
            linearInputs.accept(p + "self_attn.o_proj.weight", attn);
            double[] o = linear(attn, w.get(p + "self_attn.o_proj.weight"), dim, null);
            if (w.containsKey(p + "post_self_attn_layernorm.weight")) o = rmsnorm(o, w.get(p + "post_self_attn_layernorm.weight"));
            for (int i = 0; i < dim; i++) x[i] += o[i];

            h = rmsnorm(x, w.get(p + "post_attention_layernorm.weight"));
            linearInputs.accept(p + "mlp.gate_proj.weight", h);
            linearInputs.accept(p + "mlp.up_proj.weight", h);
            double[] gate = linear(h, w.get(p + "mlp.gate_proj.weight"), ffn, null);
            double[] up = linear(h, w.get(p + "mlp.up_proj.weight"), ffn, null);
            for (int i = 0; i < ffn; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            linearInputs.accept(p + "mlp.down_proj.weight", gate);
            double[] down = linear(gate, w.get(p + "mlp.down_proj.weight"), dim, null);
            if (w.containsKey(p + "post_mlp_layernorm.weight")) down = rmsnorm(down, w.get(p + "post_mlp_layernorm.weight"));
            for (int i = 0; i < dim; i++) x[i] += down[i];
        }
        x = rmsnorm(x, w.get("model.norm.weight"));
        float[] head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : w.get("model.embed_tokens.weight");
        linearInputs.accept(w.containsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight", x);
        double[] logits = linear(x, head, s.vocab(), null);
        pos++;
        return logits;
    }

    private void rotateHalf(double[] v, int off, int rot) {
        int half = rot / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
            double a = v[off + i], b = v[off + i + half];
            v[off + i] = a * Math.cos(angle) - b * Math.sin(angle);
            v[off + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
        }
    }

    private double[] rmsnorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + s.rmsEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * r * weight[i];
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
