package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts F32 values into the GGML block layouts, porting ggml's reference quantizers
 * (ggml/src/ggml-quants.c {@code quantize_row_*_ref}, the functions llama.cpp uses for deterministic model
 * files when no importance matrix is given) operation for operation, including its helpers
 * {@code nearest_int}, {@code make_qx_quants} (Q6_K) and {@code make_qkx2_quants} (Q4_K, Q5_K). Results can
 * differ from a compiled ggml in the last bit of a float only where the C compiler contracts a*b+c into an
 * FMA; the layouts are identical. F16 rounds to nearest even ({@link Float#floatToFloat16}, as
 * GGML_FP32_TO_FP16), BF16 as ggml_compute_fp32_to_bf16.
 */
public final class Quantizer {
    /** ggml-quants.c GROUP_MAX_EPS: below this a group counts as all zero. */
    private static final float GROUP_MAX_EPS = 1e-15f;

    private Quantizer() {
    }

    /**
     * {@code values} in the layout of {@code type}, as a heap segment backed by a byte[] (which the Vector API
     * kernels can read). {@code values.length} must be a multiple of the block size; quantized types need
     * finite values.
     */
    public static MemorySegment quantize(GgmlType type, float[] values) {
        int n = values.length;
        long bytes = type.bytesFor(n);
        if (bytes > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many values for one heap segment: " + n);
        if (type.blockSize > 1) {
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new IllegalArgumentException("cannot quantize non-finite value " + values[i] + " at index " + i + " to " + type);
                }
            }
        }
        ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = n / type.blockSize;
        switch (type) {
            case F32 -> { for (float v : values) out.putFloat(v); }
            case F16 -> { for (float v : values) out.putShort(Float.floatToFloat16(v)); }
            case BF16 -> { for (float v : values) out.putShort(toBf16(v)); }
            case Q8_0 -> { for (int b = 0; b < blocks; b++) q8_0(values, b * 32, out); }
            case Q4_0 -> { for (int b = 0; b < blocks; b++) q4_0(values, b * 32, out); }
            case Q4_1 -> { for (int b = 0; b < blocks; b++) q4_1(values, b * 32, out); }
            case Q5_0 -> { for (int b = 0; b < blocks; b++) q5_0(values, b * 32, out); }
            case Q5_1 -> { for (int b = 0; b < blocks; b++) q5_1(values, b * 32, out); }
            case Q4_K -> { for (int b = 0; b < blocks; b++) qK4or5(values, b * 256, out, false); }
            case Q5_K -> { for (int b = 0; b < blocks; b++) qK4or5(values, b * 256, out, true); }
            case Q6_K -> { for (int b = 0; b < blocks; b++) q6_K(values, b * 256, out); }
            default -> throw new IllegalArgumentException("cannot quantize to " + type);
        }
        if (out.hasRemaining()) throw new IllegalStateException("layout size mismatch for " + type);
        return MemorySegment.ofArray(out.array());
    }

    /**
     * {@code x[xOff .. xOff + n)} written in the layout of {@code type} straight into {@code dst} at byte
     * {@code dstOff}, without a temporary: the KV cache stores each new key and value row this way on every token.
     * F32, F16, Q8_0 and Q4_0 only (llama.cpp's KV cache types); the same rounding as {@link #quantize}
     * (quantize_row_q8_0_ref, quantize_row_q4_0_ref). {@code n} must be a multiple of the block size.
     */
    public static void quantizeRow(GgmlType type, float[] x, int xOff, int n, MemorySegment dst, long dstOff) {
        if (type.blockSize > 1 && n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " rows need a multiple of " + type.blockSize + " elements, got " + n);
        }
        switch (type) {
            case F32 -> MemorySegment.copy(x, xOff, dst, SegmentTensor.FLOAT_LE, dstOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(SegmentTensor.SHORT_LE, dstOff + 2L * i, fp16(x[xOff + i]));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    int o = xOff + b * 32;
                    long at = dstOff + 34L * b;
                    float amax = 0f;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
                    float d = amax / ((1 << 7) - 1);
                    float id = d != 0 ? 1.0f / d : 0.0f;
                    dst.set(SegmentTensor.SHORT_LE, at, fp16(d));
                    for (int j = 0; j < 32; j++) dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundf(x[o + j] * id));
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    int o = xOff + b * 32;
                    long at = dstOff + 18L * b;
                    float d = signedAbsMax(x, o) / -8;
                    float id = d != 0 ? 1.0f / d : 0.0f;
                    dst.set(SegmentTensor.SHORT_LE, at, fp16(d));
                    for (int j = 0; j < 16; j++) {
                        int xi0 = Math.min(15, (byte) (int) (x[o + j] * id + 8.5f));
                        int xi1 = Math.min(15, (byte) (int) (x[o + 16 + j] * id + 8.5f));
                        dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (xi0 | (xi1 << 4)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("cannot write rows of " + type + " in place");
        }
    }

    /** ggml_compute_fp32_to_bf16: round to nearest even on the upper 16 bits, NaN forced quiet. */
    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    private static short fp16(float f) {
        return Float.floatToFloat16(f);
    }

    private static float fp16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** C roundf: half away from zero (Math.round would round -2.5 to -2). */
    private static int roundf(float f) {
        return (int) Math.copySign(Math.floor(Math.abs((double) f) + 0.5), f);
    }

    /**
     * ggml nearest_int: round to nearest (ties to even) by adding 1.5 * 2^23 and reading the mantissa. Public for the
     * importance-weighted quantizers ({@link ai.autoglm.core.quant.ImportanceQuantizer}), which must round exactly as these do.
     */
    public static int nearestInt(float f) {
        float val = f + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    // ---- 32-element blocks (quantize_row_q8_0_ref, q4_0, q4_1, q5_0, q5_1) ----

    private static void q8_0(float[] x, int o, ByteBuffer out) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        for (int j = 0; j < 32; j++) out.put((byte) roundf(x[o + j] * id));
    }

    /** The value of largest magnitude, keeping its sign (the first one on ties), as the *_0 refs do. */
    private static float signedAbsMax(float[] x, int o) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static void q4_0(float[] x, int o, ByteBuffer out) {
        float d = signedAbsMax(x, o) / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(15, (byte) (int) (x[o + j] * id + 8.5f));
            int xi1 = Math.min(15, (byte) (int) (x[o + 16 + j] * id + 8.5f));
            out.put((byte) (xi0 | (xi1 << 4)));
        }
    }

    private static void q4_1(float[] x, int o, ByteBuffer out) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / ((1 << 4) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        out.putShort(fp16(min));
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(15, (byte) (int) ((x[o + j] - min) * id + 0.5f));
            int xi1 = Math.min(15, (byte) (int) ((x[o + 16 + j] - min) * id + 0.5f));
            out.put((byte) (xi0 | (xi1 << 4)));
        }
    }

    private static void q5_0(float[] x, int o, ByteBuffer out) {
        float d = signedAbsMax(x, o) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        int qh = 0;
        byte[] qs = new byte[16];
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(31, (byte) (int) (x[o + j] * id + 16.5f));
            int xi1 = Math.min(31, (byte) (int) (x[o + 16 + j] * id + 16.5f));
            qs[j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        out.putInt(qh);
        out.put(qs);
    }

    private static void q5_1(float[] x, int o, ByteBuffer out) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / ((1 << 5) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        out.putShort(fp16(min));
        int qh = 0;
        byte[] qs = new byte[16];
        for (int j = 0; j < 16; j++) {
            int xi0 = ((int) ((x[o + j] - min) * id + 0.5f)) & 0xFF;
            int xi1 = ((int) ((x[o + 16 + j] - min) * id + 0.5f)) & 0xFF;
            qs[j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        out.putInt(qh);
        out.put(qs);
    }

    // ---- K-quants (super-blocks of 256) ----

    /**
     * make_qkx2_quants: for an affine code x ~ scale * L - min with L in [0, nmax], try nstep+1 candidate
     * inverse scales around nmax / (max - min) and keep the one with the least weighted squared error after a
     * closed-form least-squares refit of scale and min. Returns the scale; the (positive) min goes to
     * {@code theMin[0]}.
     */
    private static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo,
                                        float[] theMin, int[] laux, float rmin, float rdelta, int nstep) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            if (x[xo + i] < min) min = x[xo + i];
            if (x[xo + i] > max) max = x[xo + i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[xo + i];
        }
        if (min > 0) min = 0;
        if (max == min) {
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
                int l = nearestInt(iscale * (x[xo + i] - min));
                l = Math.max(0, Math.min(nmax, l));
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
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    for (int i = 0; i < n; i++) L[lo + i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
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

    /** quantize_row_q4_K_ref (nmax 15, rmin -1, 20 steps) and quantize_row_q5_K_ref (nmax 31, rmin -0.5, 15 steps). */
    private static void qK4or5(float[] x, int o, ByteBuffer out, boolean five) {
        int nmax = five ? 31 : 15;
        int[] L = new int[256];
        int[] laux = new int[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] theMin = new float[1];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[o + 32 * j + l]);
            scales[j] = five
                    ? makeQkx2Quants(32, 31, x, o + 32 * j, weights, L, 32 * j, theMin, laux, -0.5f, 0.1f, 15)
                    : makeQkx2Quants(32, 15, x, o + 32 * j, weights, L, 32 * j, theMin, laux, -1.f, 0.1f, 20);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        byte[] sc = new byte[12];
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                sc[j] = (byte) ls;
                sc[j + 4] = (byte) lm;
            } else {
                sc[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                sc[j - 4] |= (byte) ((ls >>> 4) << 6);
                sc[j] |= (byte) ((lm >>> 4) << 6);
            }
        }
        short dHalf = fp16(maxScale / 63.f), dminHalf = fp16(maxMin / 63.f);
        for (int j = 0; j < 8; j++) {
            int sm = scaleMin(sc, j);
            float d = fp16ToFloat(dHalf) * (sm & 0xFF);
            if (d == 0) continue;
            float dm = fp16ToFloat(dminHalf) * (sm >>> 8);
            for (int ii = 0; ii < 32; ii++) {
                int l = nearestInt((x[o + 32 * j + ii] + dm) / d);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
        out.putShort(dHalf);
        out.putShort(dminHalf);
        out.put(sc);
        if (five) {
            byte[] qh = new byte[32];
            byte[] ql = new byte[128];
            int m1 = 1, m2 = 2;
            for (int n = 0, q = 0; n < 256; n += 64, q += 32) {
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
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; l++) out.put((byte) (L[j + l] | (L[j + l + 32] << 4)));
            }
        }
    }

    /**
     * make_qx_quants with rmse_type 1 and no importance weights (weights x^2): a symmetric code
     * x ~ scale * (L - nmax), L in [0, 2 nmax), searching 19 inverse scales around -nmax / max.
     */
    private static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
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
            int l = nearestInt(iscale * x[xo + i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
            float w = x[xo + i] * x[xo + i];
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
                int l = nearestInt(iscale * x[xo + i]);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = x[xo + i] * x[xo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /** quantize_row_q6_K_ref. */
    private static void q6_K(float[] x, int o, ByteBuffer out) {
        int[] L = new int[256];
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQxQuants(16, 32, x, o + 16 * ib, L, 16 * ib);
            scales[ib] = scale;
            float abs = Math.abs(scale);
            if (abs > maxAbsScale) {
                maxAbsScale = abs;
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            out.put(new byte[Q6_KTensor.BLOCK_BYTES]); // memset 0, d = +0
            return;
        }
        float iscale = -128.f / maxScale;
        short dHalf = fp16(1 / iscale);
        byte[] sc = new byte[16];
        for (int ib = 0; ib < 16; ib++) sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        for (int j = 0; j < 16; j++) {
            float d = fp16ToFloat(dHalf) * sc[j];
            if (d == 0) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearestInt(x[o + 16 * j + ii] / d);
                L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
            }
        }
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int j = 0, qlo = 0, qho = 0; j < 256; j += 128, qlo += 64, qho += 32) {
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
