package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The product of a decode step over a few sequences, {@code out[t*d + r] = W[r] . x[t]} for 2 to {@link #MAX_TOKENS}
 * tokens (a server batch of decoding slots): every weight is decoded once per step, not once per
 * token. {@link #ROWS} rows are dequantized a chunk of {@link #CHUNK} elements at a time into a small float panel
 * that stays in L1 (by the type's own vector dequantizer, {@link FloatTensor#copyTo}), and each chunk is multiplied
 * with all the tokens by register-blocked kernels of {@code ROWS} rows x up to 4 tokens: per 16 weights of 4 rows,
 * 4 + 4 loads feed 16 FMAs, and the dequantizing, most of a quantized dot's cost, is shared by every token.
 *
 * <p>Unlike {@link PanelGemm} the weights are vectorised, not the tokens: with 2-7 tokens a vector of tokens would
 * leave most lanes empty. x stays in its natural layout (token-major), so nothing is packed. Each (row, token) keeps
 * one vector accumulator across the chunks (in {@link Scratch#acc}) and is reduced once at the end. This is the
 * shape of llama.cpp's {@code ggml_compute_forward_mul_mat} for small batches (one weight row block against the
 * whole batch of activations) and of llamafile's tinyBLAS with a narrow N. Only loaded when
 * {@link VectorSupport#ENABLED}.
 */
public final class SmallBatchGemm {
    /** Rows per group: 4 rows x 4 tokens = 16 accumulators, with 4 weight vectors and one x vector, fit 32 registers. */
    public static final int ROWS = 4;
    /**
     * Elements of a row dequantized at a time: a multiple of the largest GGML block (256, the K-quants) and of the
     * lanes, so every chunk but a row's last starts on a block. 4 rows x 1024 floats (16 KB) plus 7 tokens' chunks
     * (28 KB) stay within a 48 KB L1.
     */
    public static final int CHUNK = 1024;
    /**
     * Most tokens this kernel takes before {@link PanelGemm} does. PanelGemm vectorises tokens, so below 16 tokens
     * its vectors are partly empty (at 8 tokens half). This kernel was faster than PanelGemm for every type measured
     * at 8 and 12 tokens and slower at 16 ({@code SmallBatchRatio}; numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
     */
    public static final int MAX_TOKENS = 12;

    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = VectorKernels.FLOAT_LANES;

    private SmallBatchGemm() {
    }

    /** One worker's scratch, grown on demand and reused from step to step (a decode step allocates nothing). */
    public static final class Scratch {
        final float[] panel = new float[ROWS * CHUNK];
        float[] acc = new float[0];
        float[] tail = new float[0];

        void ensure(int count) {
            if (acc.length < ROWS * count * L) acc = new float[ROWS * count * L];
            if (tail.length < ROWS * count) tail = new float[ROWS * count];
        }
    }

    /**
     * Rows {@code [r0, min(r0 + ROWS, d))} of {@code w} (rows of n elements) times tokens
     * {@code x[xOff + t*n ..]} for {@code t < count}, into {@code out[outOff + t*d + r]}.
     */
    public static void rows(FloatTensor w, int r0, int n, float[] x, int xOff, int count, float[] out, int outOff, int d, Scratch s) {
        s.ensure(count);
        int rows = Math.min(ROWS, d - r0);
        float[] panel = s.panel, acc = s.acc, tail = s.tail;
        Arrays.fill(acc, 0, ROWS * count * L, 0f);
        Arrays.fill(tail, 0, ROWS * count, 0f);
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            int len = Math.min(CHUNK, n - c0);
            for (int r = 0; r < rows; r++) w.copyTo((long) (r0 + r) * n + c0, panel, r * CHUNK, len);
            for (int r = rows; r < ROWS; r++) Arrays.fill(panel, r * CHUNK, r * CHUNK + len, 0f); // padding rows give 0
            int vlen = len - len % L;
            int t = 0;
            for (; t + 4 <= count; t += 4) pass4(panel, vlen, x, xOff + t * n + c0, n, acc, t * ROWS * L);
            if (t + 2 <= count) {
                pass2(panel, vlen, x, xOff + t * n + c0, n, acc, t * ROWS * L);
                t += 2;
            }
            if (t < count) pass1(panel, vlen, x, xOff + t * n + c0, acc, t * ROWS * L);
            for (int i = vlen; i < len; i++) { // a row length that is not a multiple of the lanes (F32/F16/BF16 only)
                for (int tt = 0; tt < count; tt++) {
                    float xv = x[xOff + tt * n + c0 + i];
                    for (int r = 0; r < ROWS; r++) tail[tt * ROWS + r] += panel[r * CHUNK + i] * xv;
                }
            }
        }
        for (int t = 0; t < count; t++) {
            for (int r = 0; r < rows; r++) {
                int a = t * ROWS + r;
                out[outOff + t * d + r0 + r] = FloatVector.fromArray(F, acc, a * L).reduceLanes(VectorOperators.ADD) + tail[a];
            }
        }
    }

    private static FloatVector v(float[] a, int at) {
        return FloatVector.fromArray(F, a, at);
    }

    /** 4 rows x 4 tokens (x of token j at {@code xo + j*n}); accumulators at {@code acc[ao + (j*ROWS + r)*L]}. */
    private static void pass4(float[] p, int len, float[] x, int xo, int n, float[] acc, int ao) {
        FloatVector a00 = v(acc, ao), a01 = v(acc, ao + L), a02 = v(acc, ao + 2 * L), a03 = v(acc, ao + 3 * L);
        FloatVector a10 = v(acc, ao + 4 * L), a11 = v(acc, ao + 5 * L), a12 = v(acc, ao + 6 * L), a13 = v(acc, ao + 7 * L);
        FloatVector a20 = v(acc, ao + 8 * L), a21 = v(acc, ao + 9 * L), a22 = v(acc, ao + 10 * L), a23 = v(acc, ao + 11 * L);
        FloatVector a30 = v(acc, ao + 12 * L), a31 = v(acc, ao + 13 * L), a32 = v(acc, ao + 14 * L), a33 = v(acc, ao + 15 * L);
        int x1 = xo + n, x2 = xo + 2 * n, x3 = xo + 3 * n;
        for (int i = 0; i < len; i += L) {
            FloatVector w0 = v(p, i), w1 = v(p, CHUNK + i), w2 = v(p, 2 * CHUNK + i), w3 = v(p, 3 * CHUNK + i);
            FloatVector xv = v(x, xo + i);
            a00 = w0.fma(xv, a00);
            a01 = w1.fma(xv, a01);
            a02 = w2.fma(xv, a02);
            a03 = w3.fma(xv, a03);
            xv = v(x, x1 + i);
            a10 = w0.fma(xv, a10);
            a11 = w1.fma(xv, a11);
            a12 = w2.fma(xv, a12);
            a13 = w3.fma(xv, a13);
            xv = v(x, x2 + i);
            a20 = w0.fma(xv, a20);
            a21 = w1.fma(xv, a21);
            a22 = w2.fma(xv, a22);
            a23 = w3.fma(xv, a23);
            xv = v(x, x3 + i);
            a30 = w0.fma(xv, a30);
            a31 = w1.fma(xv, a31);
            a32 = w2.fma(xv, a32);
            a33 = w3.fma(xv, a33);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a02.intoArray(acc, ao + 2 * L);
        a03.intoArray(acc, ao + 3 * L);
        a10.intoArray(acc, ao + 4 * L);
        a11.intoArray(acc, ao + 5 * L);
        a12.intoArray(acc, ao + 6 * L);
        a13.intoArray(acc, ao + 7 * L);
        a20.intoArray(acc, ao + 8 * L);
        a21.intoArray(acc, ao + 9 * L);
        a22.intoArray(acc, ao + 10 * L);
        a23.intoArray(acc, ao + 11 * L);
        a30.intoArray(acc, ao + 12 * L);
        a31.intoArray(acc, ao + 13 * L);
        a32.intoArray(acc, ao + 14 * L);
        a33.intoArray(acc, ao + 15 * L);
    }

    /** 4 rows x 2 tokens. */
    private static void pass2(float[] p, int len, float[] x, int xo, int n, float[] acc, int ao) {
        FloatVector a00 = v(acc, ao), a01 = v(acc, ao + L), a02 = v(acc, ao + 2 * L), a03 = v(acc, ao + 3 * L);
        FloatVector a10 = v(acc, ao + 4 * L), a11 = v(acc, ao + 5 * L), a12 = v(acc, ao + 6 * L), a13 = v(acc, ao + 7 * L);
        int x1 = xo + n;
        for (int i = 0; i < len; i += L) {
            FloatVector w0 = v(p, i), w1 = v(p, CHUNK + i), w2 = v(p, 2 * CHUNK + i), w3 = v(p, 3 * CHUNK + i);
            FloatVector xv = v(x, xo + i);
            a00 = w0.fma(xv, a00);
            a01 = w1.fma(xv, a01);
            a02 = w2.fma(xv, a02);
            a03 = w3.fma(xv, a03);
            xv = v(x, x1 + i);
            a10 = w0.fma(xv, a10);
            a11 = w1.fma(xv, a11);
            a12 = w2.fma(xv, a12);
            a13 = w3.fma(xv, a13);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a02.intoArray(acc, ao + 2 * L);
        a03.intoArray(acc, ao + 3 * L);
        a10.intoArray(acc, ao + 4 * L);
        a11.intoArray(acc, ao + 5 * L);
        a12.intoArray(acc, ao + 6 * L);
        a13.intoArray(acc, ao + 7 * L);
    }

    /** 4 rows x 1 token. */
    private static void pass1(float[] p, int len, float[] x, int xo, float[] acc, int ao) {
        FloatVector a00 = v(acc, ao), a01 = v(acc, ao + L), a02 = v(acc, ao + 2 * L), a03 = v(acc, ao + 3 * L);
        for (int i = 0; i < len; i += L) {
            FloatVector xv = v(x, xo + i);
            a00 = v(p, i).fma(xv, a00);
            a01 = v(p, CHUNK + i).fma(xv, a01);
            a02 = v(p, 2 * CHUNK + i).fma(xv, a02);
            a03 = v(p, 3 * CHUNK + i).fma(xv, a03);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a02.intoArray(acc, ao + 2 * L);
        a03.intoArray(acc, ao + 3 * L);
    }
}
