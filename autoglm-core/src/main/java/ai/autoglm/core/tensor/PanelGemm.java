package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix-matrix product of prefill, {@code out[t*d + r] = W[r] . x[t]} for many tokens t, as a float GEMM:
 * {@link #ROWS} weight rows are dequantized once into a float panel (whatever their GGML type), then multiplied
 * with every token by a register-blocked micro-kernel of {@code ROWS} rows x {@code 2 * FLOAT_LANES} tokens, 16
 * accumulators that never leave the registers. Dequantizing costs about as much as a handful of multiply-adds
 * per weight, so over a chunk of tokens it all but vanishes, and the inner loop is pure FMA (the per-row
 * {@link FloatTensor#dotMany} kernels decode every block again for each group of four tokens and reread the
 * tokens from L3 for every row).
 *
 * <p>The tokens are vectorised, not the weights: {@link #packTokens} lays x out token-minor
 * ({@code xt[k][t]}, in groups of {@code 2 * FLOAT_LANES} tokens, each group contiguous), so one load gives one
 * input element of a whole token group and each weight is a broadcast. That leaves the weight panel in its
 * natural row-major order (dequantized by vector kernels, see {@link FloatTensor#copyTo}) and needs no horizontal
 * sums: lane t of row r's two accumulators holds tokens t and L + t of the group. This is the "broadcast A, vector B" shape of
 * BLIS-style micro-kernels (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008)
 * and of llamafile's tinyBLAS. Only loaded when {@link VectorSupport#ENABLED}.
 */
public final class PanelGemm {
    /** Weight rows per panel: 8 rows x 2 token vectors = 16 accumulators + 2 inputs + a broadcast fit 32 AVX-512 registers. */
    public static final int ROWS = 8;
    /**
     * Fewest tokens for which this beats the per-row kernels: dequantizing a panel costs about as much as
     * multiplying it with a few tokens. The crossover was measured at 6-8 tokens (numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
     */
    public static final int MIN_TOKENS = 8;

    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = VectorKernels.FLOAT_LANES;
    /** Tokens per group: two vectors. */
    private static final int GROUP = 2 * L;
    /** Floats of the result stage {@link #rows} needs. */
    public static final int STAGE_SIZE = ROWS * GROUP;

    private PanelGemm() {
    }

    /** Floats {@link #packTokens} needs for {@code count} tokens of {@code n} elements. */
    public static int packedSize(int n, int count) {
        return Math.multiplyExact(Math.multiplyExact((count + GROUP - 1) / GROUP, GROUP), n);
    }

    /**
     * Token group g's elements at {@code xt[g*n*GROUP + k*width + lane]}, width GROUP, or L for a last group of at
     * most L tokens (its unused lanes zero). {@code xt} must hold {@link #packedSize} floats.
     */
    public static void packTokens(float[] x, int xOff, int n, int count, float[] xt) {
        for (int g = 0; g * GROUP < count; g++) {
            int t0 = g * GROUP, width = width(count, t0), base = g * n * GROUP;
            int tokens = Math.min(width, count - t0);
            for (int k = 0; k < n; k++) {
                int o = base + k * width;
                for (int t = 0; t < tokens; t++) xt[o + t] = x[xOff + (t0 + t) * n + k];
                for (int t = tokens; t < width; t++) xt[o + t] = 0f;
            }
        }
    }

    private static int width(int count, int t0) {
        return count - t0 <= L ? L : GROUP;
    }

    /**
     * Rows {@code [r0, r0 + ROWS)} of {@code w} (rows of n elements) times every packed token:
     * {@code out[outOff + t*d + r]}. {@code panel} is scratch of at least {@code ROWS * n} floats and
     * {@code stage} of at least {@link #STAGE_SIZE}.
     */
    public static void rows(FloatTensor w, int r0, int n, float[] xt, int count, float[] out, int outOff, int d,
                            float[] panel, float[] stage) {
        for (int r = 0; r < ROWS; r++) w.copyTo((long) (r0 + r) * n, panel, r * n, n);
        for (int g = 0; g * GROUP < count; g++) {
            int t0 = g * GROUP, width = width(count, t0);
            if (width == GROUP) {
                kernel2(panel, n, xt, g * n * GROUP, stage);
            } else {
                kernel1(panel, n, xt, g * n * GROUP, stage);
            }
            int tokens = Math.min(width, count - t0);
            for (int r = 0; r < ROWS; r++) {
                for (int t = 0; t < tokens; t++) out[outOff + (t0 + t) * d + r0 + r] = stage[r * GROUP + t];
            }
        }
    }

    /** ROWS rows x 2 vectors of tokens; row r's results to {@code stage[r*GROUP ..]}. */
    private static void kernel2(float[] p, int n, float[] xt, int xo, float[] stage) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        FloatVector a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        for (int k = 0; k < n; k++, xo += GROUP) {
            FloatVector x0 = FloatVector.fromArray(F, xt, xo), x1 = FloatVector.fromArray(F, xt, xo + L);
            FloatVector w = FloatVector.broadcast(F, p[k]);
            a0 = x0.fma(w, a0);
            b0 = x1.fma(w, b0);
            w = FloatVector.broadcast(F, p[n + k]);
            a1 = x0.fma(w, a1);
            b1 = x1.fma(w, b1);
            w = FloatVector.broadcast(F, p[2 * n + k]);
            a2 = x0.fma(w, a2);
            b2 = x1.fma(w, b2);
            w = FloatVector.broadcast(F, p[3 * n + k]);
            a3 = x0.fma(w, a3);
            b3 = x1.fma(w, b3);
            w = FloatVector.broadcast(F, p[4 * n + k]);
            a4 = x0.fma(w, a4);
            b4 = x1.fma(w, b4);
            w = FloatVector.broadcast(F, p[5 * n + k]);
            a5 = x0.fma(w, a5);
            b5 = x1.fma(w, b5);
            w = FloatVector.broadcast(F, p[6 * n + k]);
            a6 = x0.fma(w, a6);
            b6 = x1.fma(w, b6);
            w = FloatVector.broadcast(F, p[7 * n + k]);
            a7 = x0.fma(w, a7);
            b7 = x1.fma(w, b7);
        }
        a0.intoArray(stage, 0);
        b0.intoArray(stage, L);
        a1.intoArray(stage, GROUP);
        b1.intoArray(stage, GROUP + L);
        a2.intoArray(stage, 2 * GROUP);
        b2.intoArray(stage, 2 * GROUP + L);
        a3.intoArray(stage, 3 * GROUP);
        b3.intoArray(stage, 3 * GROUP + L);
        a4.intoArray(stage, 4 * GROUP);
        b4.intoArray(stage, 4 * GROUP + L);
        a5.intoArray(stage, 5 * GROUP);
        b5.intoArray(stage, 5 * GROUP + L);
        a6.intoArray(stage, 6 * GROUP);
        b6.intoArray(stage, 6 * GROUP + L);
        a7.intoArray(stage, 7 * GROUP);
        b7.intoArray(stage, 7 * GROUP + L);
    }

    /** ROWS rows x 1 vector of tokens (a last group of at most L tokens). */
    private static void kernel1(float[] p, int n, float[] xt, int xo, float[] stage) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int k = 0; k < n; k++, xo += L) {
            FloatVector x0 = FloatVector.fromArray(F, xt, xo);
            a0 = x0.fma(FloatVector.broadcast(F, p[k]), a0);
            a1 = x0.fma(FloatVector.broadcast(F, p[n + k]), a1);
            a2 = x0.fma(FloatVector.broadcast(F, p[2 * n + k]), a2);
            a3 = x0.fma(FloatVector.broadcast(F, p[3 * n + k]), a3);
            a4 = x0.fma(FloatVector.broadcast(F, p[4 * n + k]), a4);
            a5 = x0.fma(FloatVector.broadcast(F, p[5 * n + k]), a5);
            a6 = x0.fma(FloatVector.broadcast(F, p[6 * n + k]), a6);
            a7 = x0.fma(FloatVector.broadcast(F, p[7 * n + k]), a7);
        }
        a0.intoArray(stage, 0);
        a1.intoArray(stage, GROUP);
        a2.intoArray(stage, 2 * GROUP);
        a3.intoArray(stage, 3 * GROUP);
        a4.intoArray(stage, 4 * GROUP);
        a5.intoArray(stage, 5 * GROUP);
        a6.intoArray(stage, 6 * GROUP);
        a7.intoArray(stage, 7 * GROUP);
    }
}
