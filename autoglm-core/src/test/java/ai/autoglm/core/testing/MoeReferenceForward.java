package ai.autoglm.core.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A plain double-precision forward pass for Qwen3, Qwen3-MoE and GLM-4.5, one token at a time, top to bottom like
 * llama2.c's run.c, reading the HF weights by their HF names and sharing nothing with the engine. Step by step after
 * transformers:
 * <ul>
 *   <li>attention (modeling_qwen3.py Qwen3Attention, modeling_glm4_moe.py Glm4MoeAttention): q/k/v projections (+ bias
 *       when attention_bias), {@code q_norm} / {@code k_norm} RMSNorm over each head when present, then rotary on the
 *       first {@code rotary_dim = head_dim * partial_rotary_factor} dims of each head: inv_freq
 *       {@code theta^(-2i/rotary_dim)}, {@code emb = cat(freqs, freqs)}, {@code q*cos + rotate_half(q)*sin} with
 *       rotate_half pairing dim i with i + rotary_dim/2; GQA; softmax(q.k / sqrt(head_dim));</li>
 *   <li>the MLP after {@code post_attention_layernorm}: dense {@code down(silu(gate(x)) * up(x))}; or Qwen3MoeSparseMoeBlock:
 *       {@code softmax(router logits)}, torch.topk, divided by their sum when norm_topk_prob; or Glm4MoeMoE:
 *       {@code sigmoid(router logits)}, selection scores + e_score_correction_bias, group scores = sum of the top 2 per
 *       group, the topk_group best groups kept and the rest masked to 0.0, torch.topk of the selection scores, weights
 *       the unbiased sigmoid values, / (sum + 1e-20) when norm_topk_prob, * routed_scaling_factor; plus
 *       shared_experts(x);</li>
 *   <li>{@code model.norm} then {@code lm_head}. The MTP block (layers past num_hidden_layers) is never run.</li>
 * </ul>
 * It records the experts each token selects in each routed layer ({@link #routing}).
 */
public final class MoeReferenceForward {
    private final MoeFixtures.Spec s;
    private final Map<String, MoeFixtures.Named> w;
    private final double[][] keyCache;
    private final double[][] valueCache;
    private final List<int[][]> routing = new ArrayList<>();
    private int pos;

    public MoeReferenceForward(MoeFixtures.Spec spec, Map<String, MoeFixtures.Named> hfWeights, int maxTokens) {
        this.s = spec;
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

    /**
     * The sorted expert ids each token run so far selected, {@code [token][layer]} (null for dense layers).
     */
    public List<int[][]> routing() {
        return routing;
    }

    private float[] get(String name) {
        MoeFixtures.Named n = w.get(name);
        return n == null ? null : n.values();
    }

    private double[] step(int token) {
        int dim = s.dim(), hd = s.headDim(), nh = s.heads(), nkv = s.kvHeads();
        int qDim = nh * hd, kvDim = nkv * hd;
        int[][] selected = new int[s.layers()][];
        double[] x = new double[dim];
        float[] emb = get("model.embed_tokens.weight");
        for (int i = 0; i < dim; i++) x[i] = emb[token * dim + i];

        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[] h = rmsnorm(x, get(p + "input_layernorm.weight"));
            double[] q = linear(h, get(p + "self_attn.q_proj.weight"), qDim, get(p + "self_attn.q_proj.bias"));
            double[] k = linear(h, get(p + "self_attn.k_proj.weight"), kvDim, get(p + "self_attn.k_proj.bias"));
            double[] v = linear(h, get(p + "self_attn.v_proj.weight"), kvDim, get(p + "self_attn.v_proj.bias"));
            float[] qNorm = get(p + "self_attn.q_norm.weight"), kNorm = get(p + "self_attn.k_norm.weight");
            for (int head = 0; head < nh; head++) {
                if (qNorm != null) normHead(q, head * hd, qNorm);
                rotateHalf(q, head * hd);
            }
            for (int head = 0; head < nkv; head++) {
                if (kNorm != null) normHead(k, head * hd, kNorm);
                rotateHalf(k, head * hd);
            }
            System.arraycopy(k, 0, keyCache[l], pos * kvDim, kvDim);
            System.arraycopy(v, 0, valueCache[l], pos * kvDim, kvDim);

            double[] attn = ReferenceAttention.attend(q, keyCache[l], valueCache[l], pos, nh, nkv, hd);
            double[] o = linear(attn, get(p + "self_attn.o_proj.weight"), dim, null);
            for (int i = 0; i < dim; i++) x[i] += o[i];

            h = rmsnorm(x, get(p + "post_attention_layernorm.weight"));
            double[] mlp;
            if (get(p + "mlp.gate.weight") == null) {
                mlp = swiglu(h, p + "mlp.", s.ffn());
            } else {
                mlp = new double[dim];
                double[] logits = linear(h, get(p + "mlp.gate.weight"), s.experts(), null);
                double[] weights = new double[s.experts()];
                int[] top = s.sigmoid() ? sigmoidRoute(logits, get(p + "mlp.gate.e_score_correction_bias"), weights)
                        : softmaxRoute(logits, weights);
                selected[l] = top.clone();
                Arrays.sort(selected[l]);
                for (int j = 0; j < top.length; j++) {
                    double[] y = swiglu(h, p + "mlp.experts." + top[j] + ".", s.expertFfn());
                    for (int i = 0; i < dim; i++) mlp[i] += weights[j] * y[i];
                }
                if (s.shared() > 0) {
                    double[] y = swiglu(h, p + "mlp.shared_experts.", s.expertFfn() * s.shared());
                    for (int i = 0; i < dim; i++) mlp[i] += y[i];
                }
            }
            for (int i = 0; i < dim; i++) x[i] += mlp[i];
        }
        x = rmsnorm(x, get("model.norm.weight"));
        double[] logits = linear(x, get("lm_head.weight"), s.vocab(), null);
        routing.add(selected);
        pos++;
        return logits;
    }

    /** Qwen3MoeSparseMoeBlock: softmax, topk, renormalize; returns the ids, weights[j] for the j-th. */
    private int[] softmaxRoute(double[] logits, double[] weights) {
        double max = Arrays.stream(logits).max().orElseThrow(), sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        int[] top = topk(p, s.used());
        double total = 0;
        for (int j = 0; j < top.length; j++) total += weights[j] = p[top[j]];
        if (s.normTopk()) for (int j = 0; j < top.length; j++) weights[j] /= total;
        return top;
    }

    /** Glm4MoeMoE.route_tokens_to_experts, line by line. */
    private int[] sigmoidRoute(double[] logits, float[] bias, double[] weights) {
        int e = logits.length, groups = s.groups(), per = e / groups;
        double[] sig = new double[e], choice = new double[e];
        for (int i = 0; i < e; i++) {
            sig[i] = 1 / (1 + Math.exp(-logits[i]));
            choice[i] = sig[i] + bias[i];
        }
        double[] groupScores = new double[groups];
        for (int g = 0; g < groups; g++) {
            int[] best2 = topk(Arrays.copyOfRange(choice, g * per, (g + 1) * per), 2);
            groupScores[g] = choice[g * per + best2[0]] + choice[g * per + best2[1]];
        }
        int[] keptGroups = topk(groupScores, s.groupsUsed());
        boolean[] mask = new boolean[e];
        for (int g : keptGroups) for (int i = 0; i < per; i++) mask[g * per + i] = true;
        double[] masked = new double[e];
        for (int i = 0; i < e; i++) masked[i] = mask[i] ? choice[i] : 0.0; // masked_fill(~score_mask, 0.0)
        int[] top = topk(masked, s.used());
        double total = 0;
        for (int j = 0; j < top.length; j++) total += weights[j] = sig[top[j]];
        if (s.normTopk()) for (int j = 0; j < top.length; j++) weights[j] /= total + 1e-20;
        for (int j = 0; j < top.length; j++) weights[j] *= s.scale();
        return top;
    }

    /** Indices of the k largest values, largest first (ties: lower index first). */
    private static int[] topk(double[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -v[i]).thenComparingInt(i -> i));
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = idx[j];
        return out;
    }

    /** down(silu(gate(x)) * up(x)) with the modules under {@code prefix}. */
    private double[] swiglu(double[] x, String prefix, int ffn) {
        double[] g = linear(x, get(prefix + "gate_proj.weight"), ffn, null);
        double[] u = linear(x, get(prefix + "up_proj.weight"), ffn, null);
        double[] a = new double[ffn];
        for (int i = 0; i < ffn; i++) a[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        return linear(a, get(prefix + "down_proj.weight"), s.dim(), null);
    }

    /** rotate_half rotary on the first rotary_dim dims of the head at {@code off}; the rest pass through. */
    private void rotateHalf(double[] v, int off) {
        int rot = s.rotaryDim(), half = rot / 2;
        double[] out = new double[rot];
        for (int i = 0; i < rot; i++) {
            double angle = pos / Math.pow(s.theta(), 2.0 * (i % half) / rot); // cat(freqs, freqs)
            double rotated = i < half ? -v[off + i + half] : v[off + i - half];
            out[i] = v[off + i] * Math.cos(angle) + rotated * Math.sin(angle);
        }
        System.arraycopy(out, 0, v, off, rot);
    }

    private void normHead(double[] v, int off, float[] weight) {
        double[] head = Arrays.copyOfRange(v, off, off + s.headDim());
        double[] n = rmsnorm(head, weight);
        System.arraycopy(n, 0, v, off, n.length);
    }

    private double[] rmsnorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + s.eps());
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
