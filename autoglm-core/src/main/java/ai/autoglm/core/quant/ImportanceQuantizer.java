package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlQuants;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Quantizes rows the way {@code llama-quantize} does: ggml's {@code ggml_quantize_chunk}, which calls
 * {@code quantize_q4_0}, {@code quantize_q4_K}, ... (ggml/src/ggml-quants.c). Without an importance vector every
 * type goes to the reference quantizer ({@code quantize_row_*_ref}, core's {@link Quantizer}); with one, the
 * {@code quantize_row_*_impl} functions search scales that minimise an importance-weighted squared error:
 * <ul>
 *   <li>Q4_0 / Q5_0: {@code make_qx_quants(32, 8|16, x, L, 1, w)} with {@code w_j = imatrix_j * sqrt(sigma2 + x_j^2)},
 *       {@code sigma2} the mean square of the whole row (ggml-quants.c quantize_row_q4_0_impl, q5_0_impl);</li>
 *   <li>Q4_1 / Q5_1: {@code make_qkx3_quants(32, 15|31, ..., -0.9, 0.05, 36)} with the same weights (q4_1_impl, q5_1_impl);</li>
 *   <li>Q4_K / Q5_K: per 32-value group {@code make_qkx3_quants} with {@code w = imatrix * sqrt(sigma2 + x^2)},
 *       {@code sigma2 = 2 * mean(x^2)} over the 256-value super-block, then the 6-bit group scales and mins by
 *       {@code make_qp_quants} weighted by each group's summed weights (q4_K_impl, q5_K_impl);</li>
 *   <li>Q6_K: {@code make_qx_quants(16, 32, x, L, 1, imatrix)} per 16-value group (q6_K_impl);</li>
 *   <li>Q8_0 ignores the importance ({@code quantize_q8_0}: "not used").</li>
 * </ul>
 * The ggml helpers both quantizers use ({@code nearest_int}, {@code make_qx_quants}, {@code make_qkx3_quants},
 * {@code make_qp_quants}, the block packing) are core's {@link GgmlQuants}, shared with {@link Quantizer}.
 * Operation order follows the C code so results are bit-identical to a compiled ggml without FMA contraction
 * (the test compares against llama.cpp's own {@code libggml-base.so}). In current ggml none of these types uses
 * the weighted search without an importance vector ({@code quantize_q4_K(..., NULL)} calls the reference
 * function), so neither do we.
 */
public final class ImportanceQuantizer {
    private static final int QK_K = GgmlQuants.QK_K;

    private ImportanceQuantizer() {
    }

    /** Whether {@code type}'s quantizer uses an importance vector when given one. */
    public static boolean usesImportance(GgmlType type) {
        return switch (type) {
            case Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * {@code values} (whole rows of {@code rowLength}) in {@code type}'s layout, as a heap segment. {@code importance}
     * ({@code rowLength} non-negative values, llama-quantize's per-column mean of squared activations) or null for
     * the reference quantization.
     */
    public static MemorySegment quantize(GgmlType type, float[] values, int rowLength, float[] importance) {
        if (rowLength <= 0 || values.length % rowLength != 0) {
            throw new IllegalArgumentException(values.length + " values are not whole rows of " + rowLength);
        }
        if (importance == null || !usesImportance(type)) return Quantizer.quantize(type, values);
        if (importance.length != rowLength) {
            throw new IllegalArgumentException("importance has " + importance.length + " values for rows of " + rowLength);
        }
        if (rowLength % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " needs rows that are a multiple of " + type.blockSize + ", got " + rowLength);
        }
        for (int i = 0; i < importance.length; i++) {
            if (!(importance[i] >= 0) || !Float.isFinite(importance[i])) {
                throw new IllegalArgumentException("importance value " + importance[i] + " at column " + i + " is not a finite non-negative number");
            }
        }
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException("cannot quantize non-finite value " + values[i] + " at index " + i + " to " + type);
            }
        }
        int rows = values.length / rowLength;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.bytesFor(values.length))).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            int o = r * rowLength;
            switch (type) {
                case Q4_0 -> qx_0(values, o, rowLength, importance, out, false);
                case Q5_0 -> qx_0(values, o, rowLength, importance, out, true);
                case Q4_1 -> qx_1(values, o, rowLength, importance, out, false);
                case Q5_1 -> qx_1(values, o, rowLength, importance, out, true);
                case Q4_K -> qK4or5(values, o, rowLength, importance, out, false);
                case Q5_K -> qK4or5(values, o, rowLength, importance, out, true);
                case Q6_K -> q6_K(values, o, rowLength, importance, out);
                default -> throw new IllegalStateException("no weighted quantizer for " + type);
            }
        }
        if (out.hasRemaining()) throw new IllegalStateException("layout size mismatch for " + type);
        return MemorySegment.ofArray(out.array());
    }

    // ------------------------------------------------------------------ helpers (ggml-quants.c)

    /** Row mean square {@code sum x^2 / n}, summed in float in row order as the *_impl functions do. */
    private static float rowMeanSquare(float[] x, int o, int n) {
        float sumX2 = 0;
        for (int j = 0; j < n; j++) sumX2 += x[o + j] * x[o + j];
        return sumX2 / n;
    }

    // ------------------------------------------------------------------ 32-value blocks

    /** quantize_row_q4_0_impl (nmax 8) and quantize_row_q5_0_impl (nmax 16). */
    private static void qx_0(float[] x, int o, int n, float[] qw, ByteBuffer out, boolean five) {
        float sigma2 = rowMeanSquare(x, o, n);
        float[] weight = new float[32];
        int[] L = new int[32];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = o + 32 * ib;
            for (int j = 0; j < 32; j++) weight[j] = qw[32 * ib + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d = GgmlQuants.makeQxQuants(32, five ? 16 : 8, x, xb, L, 0, weight, 0);
            out.putShort(Float.floatToFloat16(d));
            if (five) GgmlQuants.putFiveBitQuants(L, out);
            else GgmlQuants.putNibbles32(L, out);
        }
    }

    /** quantize_row_q4_1_impl (nmax 15) and quantize_row_q5_1_impl (nmax 31). */
    private static void qx_1(float[] x, int o, int n, float[] qw, ByteBuffer out, boolean five) {
        float sigma2 = rowMeanSquare(x, o, n);
        float[] weight = new float[32];
        int[] L = new int[32];
        int[] laux = new int[32];
        float[] min = new float[1];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = o + 32 * ib;
            for (int j = 0; j < 32; j++) weight[j] = qw[32 * ib + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d = GgmlQuants.makeQkxQuants(32, five ? 31 : 15, x, xb, weight, L, 0, min, laux, -0.9f, 0.05f, 36);
            out.putShort(Float.floatToFloat16(d));
            out.putShort(Float.floatToFloat16(-min[0]));
            if (five) GgmlQuants.putFiveBitQuants(L, out);
            else GgmlQuants.putNibbles32(L, out);
        }
    }

    // ------------------------------------------------------------------ K-quants

    /** quantize_row_q4_K_impl and quantize_row_q5_K_impl (the latter clamps the 6-bit scales to 63). */
    private static void qK4or5(float[] row, int o, int n, float[] qw, ByteBuffer out, boolean five) {
        int nmax = five ? 31 : 15;
        int[] L = new int[QK_K];
        int[] laux = new int[32];
        int[] ls = new int[8];
        int[] lm = new int[8];
        float[] weights = new float[32];
        float[] sw = new float[8];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] theMin = new float[1];
        for (int i = 0; i < n / QK_K; i++) {
            int x = o + QK_K * i;
            float sumX2 = 0;
            for (int l = 0; l < QK_K; l++) sumX2 += row[x + l] * row[x + l];
            float sigma2 = 2 * sumX2 / QK_K;
            for (int j = 0; j < 8; j++) {
                int q = QK_K * i + 32 * j;
                for (int l = 0; l < 32; l++) {
                    float v = row[x + 32 * j + l];
                    weights[l] = qw[q + l] * (float) Math.sqrt(sigma2 + v * v);
                }
                float sumw = 0;
                for (int l = 0; l < 32; l++) sumw += weights[l];
                sw[j] = sumw;
                scales[j] = GgmlQuants.makeQkxQuants(32, nmax, row, x + 32 * j, weights, L, 32 * j, theMin, laux, -0.9f, 0.05f, 36);
                mins[j] = theMin[0];
            }
            float dBlock = GgmlQuants.makeQpQuants(8, 63, scales, ls, sw);
            float mBlock = GgmlQuants.makeQpQuants(8, 63, mins, lm, sw);
            if (five) { // quantize_row_q5_K_impl clamps the 6-bit scales; q4_K_impl relies on make_qp_quants' nmax
                for (int j = 0; j < 8; j++) {
                    ls[j] = Math.min(63, ls[j]);
                    lm[j] = Math.min(63, lm[j]);
                }
            }
            GgmlQuants.putQ4or5_K(row, x, L, GgmlQuants.packScalesMinsK4(ls, lm), Float.floatToFloat16(dBlock),
                    Float.floatToFloat16(mBlock), five, out);
        }
    }

    /** quantize_row_q6_K_impl: make_qx_quants(16, 32, ..., imatrix) per group, then the reference packing. */
    private static void q6_K(float[] row, int o, int n, float[] qw, ByteBuffer out) {
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        for (int i = 0; i < n / QK_K; i++) {
            int x = o + QK_K * i;
            for (int ib = 0; ib < 16; ib++) {
                scales[ib] = GgmlQuants.makeQxQuants(16, 32, row, x + 16 * ib, L, 16 * ib, qw, QK_K * i + 16 * ib);
            }
            GgmlQuants.putQ6_K(row, x, L, scales, out);
        }
    }
}
