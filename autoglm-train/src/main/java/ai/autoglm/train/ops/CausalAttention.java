package ai.autoglm.train.ops;

import ai.autoglm.core.model.Parallel;

import java.util.Arrays;

/**
 * Causal scaled dot-product attention with grouped key/value heads (Vaswani et al. 2017 eq. 1; GQA,
 * Ainslie et al. 2023: query head {@code h} reads kv head {@code h / (heads / kvHeads)}, HF
 * {@code repeat_kv}), over {@code n / seqLen} independent sequences laid back to back.
 * <pre>
 *   s_p = scale * q_t . k_p   (p &lt;= t),   P = softmax(s),   o_t = sum_p P_p v_p
 * </pre>
 * Backward (softmax Jacobian {@code dP/ds = diag(P) - P P^T}):
 * <pre>
 *   dP_p = do_t . v_p,   ds_p = P_p (dP_p - sum_j P_j dP_j)
 *   dq_t = scale sum_p ds_p k_p,   dk_p += scale ds_p q_t,   dv_p += P_p do_t
 * </pre>
 * The forward keeps the probabilities ({@code [sequences][heads][seqLen][seqLen]}) for the backward.
 * Forward work is split over (sequence, query head), backward over (sequence, kv head) so that each task owns
 * the rows of dk/dv it accumulates into: the sums have a fixed order whatever the thread count.
 */
public final class CausalAttention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    public CausalAttention(int heads, int kvHeads, int headDim) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException("kv heads " + kvHeads + " do not divide heads " + heads);
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /** Floats of the probability buffer for {@code n} rows in sequences of {@code seqLen}. */
    public long probsSize(int n, int seqLen) {
        return (long) (n / seqLen) * heads * seqLen * seqLen;
    }

    public void forward(float[] q, float[] k, float[] v, int n, int seqLen, float[] probs, float[] out) {
        int seqs = n / seqLen, qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads;
        Parallel.forRange(seqs * heads, (long) seqLen * seqLen * headDim, (from, to) -> {
            for (int task = from; task < to; task++) {
                int b = task / heads, h = task % heads, kvOff = (h / group) * headDim;
                for (int t = 0; t < seqLen; t++) {
                    int row = b * seqLen + t, qOff = row * qDim + h * headDim;
                    int pOff = ((b * heads + h) * seqLen + t) * seqLen;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int p = 0; p <= t; p++) {
                        float s = scale * Kernels.dot(q, qOff, k, (b * seqLen + p) * kvDim + kvOff, headDim);
                        probs[pOff + p] = s;
                        max = Math.max(max, s);
                    }
                    float sum = 0f;
                    for (int p = 0; p <= t; p++) {
                        float e = (float) Math.exp(probs[pOff + p] - max);
                        probs[pOff + p] = e;
                        sum += e;
                    }
                    float inv = 1f / sum;
                    Arrays.fill(out, qOff, qOff + headDim, 0f);
                    for (int p = 0; p <= t; p++) {
                        probs[pOff + p] *= inv;
                        Kernels.axpy(probs[pOff + p], v, (b * seqLen + p) * kvDim + kvOff, out, qOff, headDim);
                    }
                    Arrays.fill(probs, pOff + t + 1, pOff + seqLen, 0f);
                }
            }
        });
    }

    /** Sets {@code dq}, {@code dk}, {@code dv} from {@code dout} and the forward's inputs and probabilities. */
    public void backward(float[] dout, float[] q, float[] k, float[] v, int n, int seqLen, float[] probs,
                         float[] dq, float[] dk, float[] dv) {
        int seqs = n / seqLen, qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads;
        Parallel.forRange(seqs * kvHeads, (long) group * seqLen * seqLen * headDim * 3, (from, to) -> {
            float[] dp = new float[seqLen];
            for (int task = from; task < to; task++) {
                int b = task / kvHeads, kh = task % kvHeads, kvOff = kh * headDim;
                for (int t = 0; t < seqLen; t++) {
                    int r = (b * seqLen + t) * kvDim + kvOff;
                    Arrays.fill(dk, r, r + headDim, 0f);
                    Arrays.fill(dv, r, r + headDim, 0f);
                }
                for (int h = kh * group; h < (kh + 1) * group; h++) {
                    for (int t = 0; t < seqLen; t++) {
                        int row = b * seqLen + t, qOff = row * qDim + h * headDim;
                        int pOff = ((b * heads + h) * seqLen + t) * seqLen;
                        float dot = 0f;
                        for (int p = 0; p <= t; p++) {
                            int kv = (b * seqLen + p) * kvDim + kvOff;
                            dp[p] = Kernels.dot(dout, qOff, v, kv, headDim);
                            dot += probs[pOff + p] * dp[p];
                            Kernels.axpy(probs[pOff + p], dout, qOff, dv, kv, headDim);
                        }
                        Arrays.fill(dq, qOff, qOff + headDim, 0f);
                        for (int p = 0; p <= t; p++) {
                            int kv = (b * seqLen + p) * kvDim + kvOff;
                            float ds = scale * probs[pOff + p] * (dp[p] - dot);
                            Kernels.axpy(ds, k, kv, dq, qOff, headDim);
                            Kernels.axpy(ds, q, qOff, dk, kv, headDim);
                        }
                    }
                }
            }
        });
    }
}
