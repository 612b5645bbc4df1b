package ai.autoglm.core.tensor;

import java.nio.ByteBuffer;

/**
 * The primitives of ggml/src/ggml-quants.c that both quantizers are built from, in one place: the reference
 * quantizers ({@link Quantizer}, {@code quantize_row_*_ref}) and the importance-weighted ones
 * ({@code core.quant.ImportanceQuantizer}, {@code quantize_row_*_impl}) call these, so both round, search scales and
 * pack blocks exactly alike. Each is ported operation for operation (float arithmetic in the C order), which is what
 * makes the quantizers' output bit-identical to a compiled ggml without FMA contraction.
 */
public final class GgmlQuants {
    /** ggml-quants.c GROUP_MAX_EPS: below this a group counts as all zero. */
    public static final float GROUP_MAX_EPS = 1e-15f;
    /** Elements of a K-quant super-block (QK_K). */
    public static final int QK_K = 256;

    private GgmlQuants() {
    }

    /** ggml nearest_int: round to nearest (ties to even) by adding 1.5 * 2^23 and reading the mantissa. */
    public static int nearestInt(float f) {
        float val = f + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /**
     * make_qx_quants with rmse_type 1: symmetric code {@code x ~ scale * (L - nmax)}, L in [0, 2 nmax), 19 candidate
     * inverse scales around {@code -nmax / max}, each refit by weighted least squares. The weights are
     * {@code qw[qo ..]}, or {@code x^2} when {@code qw} is null (ggml's {@code quant_weights == NULL} case, which the
     * reference Q6_K quantizer uses).
     */
    public static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] qw, int qo) {
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
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
            L[lo + i] = l + nmax;
            float w = qw != null ? qw[qo + i] : x[xo + i] * x[xo + i];
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
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                float w = qw != null ? qw[qo + i] : x[xo + i] * x[xo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * make_qkx2_quants, and make_qkx3_quants with weights given and use_mad false (the same arithmetic: qkx3's
     * {@code max <= min} test equals qkx2's {@code max == min} because {@code min} is clamped to at most 0 and
     * {@code max >= min}): affine code {@code x ~ scale * L - theMin}, L in [0, nmax], nstep+1 candidate inverse scales
     * {@code (rmin + rdelta*is + nmax) / (max - min)}, each refit (scale and min) by weighted least squares, keeping
     * the least weighted squared error. Returns the scale; {@code theMin[0] = -min}.
     */
    public static float makeQkxQuants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin,
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
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
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
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError) {
                    for (int i = 0; i < n; i++) L[lo + i] = laux[i];
                    bestError = error;
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
    public static float makeQpQuants(int n, int nmax, float[] x, int[] L, float[] qw) {
        float max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        if (max < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) L[i] = nearestInt(iscale * x[i]) & 0xFF;
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
                int l = Math.min(nmax, nearestInt(iscaleIs * x[i]));
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
            int l = Math.min(nmax, nearestInt(iscale * x[i])) & 0xFF;
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
                    int newL = Math.min(nmax, nearestInt(x[i] * sl2 / slx)) & 0xFF;
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

    // ------------------------------------------------------------------ block packing

    /** Q4_0/Q4_1 quants: element j in the low nibble and element j+16 in the high nibble of byte j. */
    public static void putNibbles32(int[] L, ByteBuffer out) {
        for (int j = 0; j < 16; j++) out.put((byte) (L[j] | (L[j + 16] << 4)));
    }

    /** The Q5_0/Q5_1 block tail: 32 high bits {@code qh}, then the low nibbles of elements j and j+16 per byte. */
    public static void putFiveBitQuants(int[] L, ByteBuffer out) {
        byte[] qs = new byte[16];
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

    /** The 12 scale bytes of Q4_K/Q5_K from 8 six-bit scales and mins (the packing of quantize_row_q4_K_ref/_impl). */
    public static byte[] packScalesMinsK4(int[] ls, int[] lm) {
        byte[] sc = new byte[12];
        for (int j = 0; j < 8; j++) {
            int s = ls[j], m = lm[j];
            if (j < 4) {
                sc[j] = (byte) s;
                sc[j + 4] = (byte) m;
            } else {
                sc[j + 4] = (byte) ((s & 0xF) | ((m & 0xF) << 4));
                sc[j - 4] |= (byte) ((s >>> 4) << 6);
                sc[j] |= (byte) ((m >>> 4) << 6);
            }
        }
        return sc;
    }

    /** get_scale_min_k4 over the 12 packed scale bytes: {@code scale | min << 8} of group {@code j}. */
    public static int scaleMin(byte[] q, int j) {
        int sc, m;
        if (j < 4) {
            sc = q[j] & 63;
            m = q[j + 4] & 63;
        } else {
            sc = (q[j + 4] & 0xF) | (((q[j - 4] & 0xFF) >>> 6) << 4);
            m = ((q[j + 4] & 0xFF) >>> 4) | (((q[j] & 0xFF) >>> 6) << 4);
        }
        return sc | (m << 8);
    }

    /**
     * The end of quantize_row_q4_K/q5_K (ref and impl alike): each element re-quantized against the scales as they
     * will be decoded ({@code d * sc}, {@code dmin * m} from the packed bytes and the rounded halves), then the block
     * written: d, dmin, the 12 scale bytes, and the quants (Q5_K: the high bits {@code qh} before the nibbles).
     */
    public static void putQ4or5_K(float[] x, int o, int[] L, byte[] sc, short dHalf, short dminHalf, boolean five, ByteBuffer out) {
        int nmax = five ? 31 : 15;
        for (int j = 0; j < 8; j++) {
            int sm = scaleMin(sc, j);
            float d = Float.float16ToFloat(dHalf) * (sm & 0xFF);
            if (d == 0) continue;
            float dm = Float.float16ToFloat(dminHalf) * (sm >>> 8);
            for (int ii = 0; ii < 32; ii++) {
                L[32 * j + ii] = Math.max(0, Math.min(nmax, nearestInt((x[o + 32 * j + ii] + dm) / d)));
            }
        }
        out.putShort(dHalf);
        out.putShort(dminHalf);
        out.put(sc);
        if (five) {
            byte[] qh = new byte[32];
            byte[] ql = new byte[128];
            int m1 = 1, m2 = 2;
            for (int n = 0, q = 0; n < QK_K; n += 64, q += 32) {
                for (int j = 0; j < 32; j++) {
                    int l1 = L[n + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        qh[j] |= (byte) m1;
                    }
                    int l2 = L[n + j + 32];
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

    /**
     * The end of quantize_row_q6_K (ref and impl alike), given the 16 group scales of make_qx_quants: an all-zero
     * block when every scale is below {@link #GROUP_MAX_EPS}; otherwise the 8-bit group scales against the block's
     * half {@code d}, each element re-quantized against its decoded scale, then ql, qh, scales, d.
     */
    public static void putQ6_K(float[] x, int o, int[] L, float[] scales, ByteBuffer out) {
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float abs = Math.abs(scales[ib]);
            if (abs > maxAbsScale) {
                maxAbsScale = abs;
                maxScale = scales[ib];
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            out.put(new byte[GgmlType.Q6_K.typeSize]); // memset 0, d = +0
            return;
        }
        float iscale = -128.f / maxScale;
        short dHalf = Float.floatToFloat16(1 / iscale);
        byte[] sc = new byte[16];
        for (int ib = 0; ib < 16; ib++) sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        for (int j = 0; j < 16; j++) {
            float d = Float.float16ToFloat(dHalf) * sc[j];
            if (d == 0) continue;
            for (int ii = 0; ii < 16; ii++) {
                L[16 * j + ii] = Math.max(-32, Math.min(31, nearestInt(x[o + 16 * j + ii] / d))) + 32;
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
