package ai.autoglm.train.ops;

import ai.autoglm.core.model.RopeStyle;

/**
 * Rotary position embedding (Su et al. 2021, RoFormer, eq. 34) in place over rows of heads, on the first
 * {@code rotaryDim} dimensions of each head only (partial rotary: GLM's {@code partial_rotary_factor};
 * the remaining dimensions pass through). Pairs are {@code (2i, 2i+1)} for {@link RopeStyle#NORMAL}
 * (interleaved: GLM's and Meta's original layout) or {@code (i, i + rotaryDim/2)} for {@link RopeStyle#NEOX}
 * (HF {@code rotate_half}), pair {@code i} turning by {@code pos * invFreq[i]} — the same pairing as the
 * inference engine's {@code TransformerModel.rope}.
 *
 * <p>Each pair is multiplied by a rotation matrix R(a); R is orthogonal, so the backward pass multiplies the
 * gradient by {@code R(a)^T = R(-a)}: the same code with {@code sin} negated.
 */
public final class Rope {
    private final RopeStyle style;
    private final int headDim;
    private final int half;
    private final float[] cos;
    private final float[] sin;
    private final int positions;

    /** Tables for positions {@code [0, positions)} from {@code invFreq} ({@code rotaryDim/2} entries). */
    public Rope(RopeStyle style, int headDim, double[] invFreq, int positions) {
        if (2 * invFreq.length > headDim) throw new IllegalArgumentException("rotary dimension " + 2 * invFreq.length + " exceeds head dimension " + headDim);
        this.style = style;
        this.headDim = headDim;
        this.half = invFreq.length;
        this.positions = positions;
        cos = new float[positions * half];
        sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
    }

    /**
     * Rotates {@code heads} heads in each of {@code n} rows of width {@code heads * headDim}; row {@code t} is at
     * position {@code t % seqLen} (rows are {@code n / seqLen} sequences back to back).
     */
    public void forward(float[] v, int n, int heads, int seqLen) {
        apply(v, n, heads, seqLen, 1f);
    }

    /** The gradient through {@link #forward}: rotates {@code dv} back in place. */
    public void backward(float[] dv, int n, int heads, int seqLen) {
        apply(dv, n, heads, seqLen, -1f);
    }

    private void apply(float[] v, int n, int heads, int seqLen, float sign) {
        if (seqLen > positions) throw new IllegalArgumentException("sequence of " + seqLen + " exceeds the " + positions + " rope positions");
        int stride = style == RopeStyle.NORMAL ? 2 : 1;
        int partner = style == RopeStyle.NORMAL ? 1 : half;
        int width = heads * headDim;
        for (int t = 0; t < n; t++) {
            int p = t % seqLen;
            for (int h = 0; h < heads; h++) {
                int off = t * width + h * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[p * half + i], s = sign * sin[p * half + i];
                    int a = off + i * stride, b = a + partner;
                    float x0 = v[a], x1 = v[b];
                    v[a] = x0 * c - x1 * s;
                    v[b] = x0 * s + x1 * c;
                }
            }
        }
    }
}
