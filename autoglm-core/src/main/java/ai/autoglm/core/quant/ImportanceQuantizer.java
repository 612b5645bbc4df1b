package ai.autoglm.core.quant;

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
 * Operation order follows the C code so results are bit-identical to a compiled ggml without FMA contraction
 * (the test compares against llama.cpp's own {@code libggml-base.so}). In current ggml none of these types uses
 * the weighted search without an importance vector ({@code quantize_q4_K(..., NULL)} calls the reference
 * function), so neither do we.
 */
public final class ImportanceQuantizer {
    private static final int QK_K = 256;
    /** ggml-quants.c GROUP_MAX_EPS. */
    private static final float GROUP_MAX_EPS = 1e-15f;

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
                case Q4_0 -> q4_0(values, o, rowLength, importance, out);
                case Q5_0 -> q5_0(values, o, rowLength, importance, out);
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

    /**
     * make_qx_quants with rmse_type 1 and weights {@code qw}: symmetric code {@code x ~ scale * (L - nmax)}, L in
     * [0, 2 nmax), 19 candidate inverse scales around {@code -nmax / max}, each refit by weighted least squares.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] qw, int qo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, Quantizer.nearestInt(iscale * x[xo + i])));
            L[lo + i] = l + nmax;
            float w = qw[qo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(-nmax, Math.min(nmax - 1, Quantizer.nearestInt(iscale * x[xo + i])));
                float w = qw[qo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, Quantizer.nearestInt(iscale * x[xo + i])));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * make_qkx3_quants with weights and use_mad false: affine code {@code x ~ scale * L - theMin}, L in [0, nmax],
     * nstep+1 candidate inverse scales {@code (rmin + rdelta*is + nmax) / (max - min)}, each refit (scale and min) by
     * weighted least squares, keeping the least weighted squared error. Returns the scale; {@code theMin[0] = -min}.
     */
    static float makeQkx3Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin,
                                int[] laux, float rmin, float rdelta, int nstep) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float xi = x[xo + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) min = 0;
        if (max <= min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++) {
            int l = Quantizer.nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = diff * diff;
            bestMad += weights[i] * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, Quantizer.nearestInt(iscale * (x[xo + i] - min))));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = diff * diff;
                    mad += weights[i] * diff;
                }
                if (mad < bestMad) {
                    for (int i = 0; i < n; i++) L[lo + i] = laux[i];
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * make_qp_quants: non-negative values {@code x ~ scale * L}, L in [0, nmax] (stored as uint8_t in C, hence the
     * {@code & 0xFF}), 9 candidate scales, then up to 5 rounds of coordinate descent on each L.
     */
    static float makeQpQuants(int n, int nmax, float[] x, int[] L, float[] qw) {
        float max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        if (max < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) L[i] = Quantizer.nearestInt(iscale * x[i]) & 0xFF;
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[i] - scale * L[i];
            bestMse += qw[i] * diff * diff;
        }
        for (int is = -4; is <= 4; is++) {
            if (is == 0) continue;
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, Quantizer.nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += qw[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.min(nmax, Quantizer.nearestInt(iscale * x[i])) & 0xFF;
            L[i] = l;
            float w = qw[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float w = qw[i];
                float slx = sumlx - w * x[i] * L[i];
                float sl2 = suml2 - w * L[i] * L[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, Quantizer.nearestInt(x[i] * sl2 / slx)) & 0xFF;
                    if (newL != L[i]) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    // ------------------------------------------------------------------ 32-value blocks

    /** quantize_row_q4_0_impl. */
    private static void q4_0(float[] x, int o, int n, float[] qw, ByteBuffer out) {
        float sigma2 = rowMeanSquare(x, o, n);
        float[] weight = new float[32];
        int[] L = new int[32];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = o + 32 * ib;
            for (int j = 0; j < 32; j++) weight[j] = qw[32 * ib + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d = makeQxQuants(32, 8, x, xb, L, 0, weight, 0);
            out.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) out.put((byte) (L[j] | (L[j + 16] << 4)));
        }
    }

    /** quantize_row_q5_0_impl. */
    private static void q5_0(float[] x, int o, int n, float[] qw, ByteBuffer out) {
        float sigma2 = rowMeanSquare(x, o, n);
        float[] weight = new float[32];
        int[] L = new int[32];
        byte[] qs = new byte[16];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = o + 32 * ib;
            for (int j = 0; j < 32; j++) weight[j] = qw[32 * ib + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d = makeQxQuants(32, 16, x, xb, L, 0, weight, 0);
            out.putShort(Float.floatToFloat16(d));
            putFiveBitQuants(L, qs, out);
        }
    }

    /** quantize_row_q4_1_impl (nmax 15) and quantize_row_q5_1_impl (nmax 31). */
    private static void qx_1(float[] x, int o, int n, float[] qw, ByteBuffer out, boolean five) {
        float sigma2 = rowMeanSquare(x, o, n);
        float[] weight = new float[32];
        int[] L = new int[32];
        int[] laux = new int[32];
        float[] min = new float[1];
        byte[] qs = new byte[16];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = o + 32 * ib;
            for (int j = 0; j < 32; j++) weight[j] = qw[32 * ib + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d = makeQkx3Quants(32, five ? 31 : 15, x, xb, weight, L, 0, min, laux, -0.9f, 0.05f, 36);
            out.putShort(Float.floatToFloat16(d));
            out.putShort(Float.floatToFloat16(-min[0]));
            if (!five) {
                for (int j = 0; j < 16; j++) out.put((byte) (L[j] | (L[j + 16] << 4)));
                continue;
            }
            putFiveBitQuants(L, qs, out);
        }
    }

    /** The Q5_0/Q5_1 block tail: 32 high bits {@code qh}, then the low nibbles of elements j and j+16 per byte. */
    private static void putFiveBitQuants(int[] L, byte[] qs, ByteBuffer out) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int xi0 = L[j], xi1 = L[j + 16];
            qs[j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        out.putInt(qh);
        out.put(qs);
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
                scales[j] = makeQkx3Quants(32, nmax, row, x + 32 * j, weights, L, 32 * j, theMin, laux, -0.9f, 0.05f, 36);
                mins[j] = theMin[0];
            }
            float dBlock = makeQpQuants(8, 63, scales, ls, sw);
            float mBlock = makeQpQuants(8, 63, mins, lm, sw);
            byte[] sc = new byte[12];
            for (int j = 0; j < 8; j++) {
                int s = five ? Math.min(63, ls[j]) : ls[j];
                int m = five ? Math.min(63, lm[j]) : lm[j];
                if (j < 4) {
                    sc[j] = (byte) s;
                    sc[j + 4] = (byte) m;
                } else {
                    sc[j + 4] = (byte) ((s & 0xF) | ((m & 0xF) << 4));
                    sc[j - 4] |= (byte) ((s >>> 4) << 6);
                    sc[j] |= (byte) ((m >>> 4) << 6);
                }
            }
            short dHalf = Float.floatToFloat16(dBlock), dminHalf = Float.floatToFloat16(mBlock);
            for (int j = 0; j < 8; j++) {
                int smk = Quantizer.scaleMin(sc, j);
                float d = Float.float16ToFloat(dHalf) * (smk & 0xFF);
                if (d == 0) continue;
                float dm = Float.float16ToFloat(dminHalf) * (smk >>> 8);
                for (int ii = 0; ii < 32; ii++) {
                    L[32 * j + ii] = Math.max(0, Math.min(nmax, Quantizer.nearestInt((row[x + 32 * j + ii] + dm) / d)));
                }
            }
            out.putShort(dHalf);
            out.putShort(dminHalf);
            out.put(sc);
            if (five) {
                byte[] qh = new byte[32];
                byte[] ql = new byte[128];
                int m1 = 1, m2 = 2;
                for (int nn = 0, q = 0; nn < QK_K; nn += 64, q += 32) {
                    for (int j = 0; j < 32; j++) {
                        int l1 = L[nn + j];
                        if (l1 > 15) {
                            l1 -= 16;
                            qh[j] |= (byte) m1;
                        }
                        int l2 = L[nn + j + 32];
                        if (l2 > 15) {
                            l2 -= 16;
                            qh[j] |= (byte) m2;
                        }
                        ql[q + j] = (byte) (l1 | (l2 << 4));
                    }
                    m1 <<= 2;
                    m2 <<= 2;
                }
                out.put(qh);
                out.put(ql);
            } else {
                for (int j = 0; j < QK_K; j += 64) {
                    for (int l = 0; l < 32; l++) out.put((byte) (L[j + l] | (L[j + l + 32] << 4)));
                }
            }
        }
    }

    /** quantize_row_q6_K_impl: make_qx_quants(16, 32, ..., imatrix) per group, then the reference packing. */
    private static void q6_K(float[] row, int o, int n, float[] qw, ByteBuffer out) {
        int[] L = new int[QK_K];
        float[] scales = new float[16];
        for (int i = 0; i < n / QK_K; i++) {
            int x = o + QK_K * i;
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++) {
                float scale = makeQxQuants(16, 32, row, x + 16 * ib, L, 16 * ib, qw, QK_K * i + 16 * ib);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) {
                    maxAbsScale = abs;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                out.put(new byte[GgmlType.Q6_K.typeSize]); // memset 0, d = +0
                continue;
            }
            float iscale = -128.f / maxScale;
            short dHalf = Float.floatToFloat16(1 / iscale);
            byte[] sc = new byte[16];
            for (int ib = 0; ib < 16; ib++) sc[ib] = (byte) Math.min(127, Quantizer.nearestInt(iscale * scales[ib]));
            for (int j = 0; j < 16; j++) {
                float d = Float.float16ToFloat(dHalf) * sc[j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++) {
                    L[16 * j + ii] = Math.max(-32, Math.min(31, Quantizer.nearestInt(row[x + 16 * j + ii] / d))) + 32;
                }
            }
            byte[] ql = new byte[128];
            byte[] qh = new byte[64];
            for (int j = 0, qlo = 0, qho = 0; j < QK_K; j += 128, qlo += 64, qho += 32) {
                for (int l = 0; l < 32; l++) {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[qlo + l] = (byte) (q1 | (q3 << 4));
                    ql[qlo + l + 32] = (byte) (q2 | (q4 << 4));
                    qh[qho + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
            out.put(ql);
            out.put(qh);
            out.put(sc);
            out.putShort(dHalf);
        }
    }
}
