package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts F32 values into the GGML block layouts, porting ggml's reference quantizers
 * (ggml/src/ggml-quants.c {@code quantize_row_*_ref}, the functions llama.cpp uses for deterministic model
 * files when no importance matrix is given) operation for operation; the helpers they share with the importance-weighted
 * quantizers ({@code nearest_int}, {@code make_qx_quants} for Q6_K, {@code make_qkx2_quants} for Q4_K/Q5_K, the block
 * packing) are {@link GgmlQuants}. Results can
 * differ from a compiled ggml in the last bit of a float only where the C compiler contracts a*b+c into an
 * FMA; the layouts are identical. F16 rounds to nearest even ({@link Float#floatToFloat16}, as
 * GGML_FP32_TO_FP16), BF16 as ggml_compute_fp32_to_bf16.
 */
public final class Quantizer {
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

    /** C roundf: half away from zero (Math.round would round -2.5 to -2). */
    private static int roundf(float f) {
        return (int) Math.copySign(Math.floor(Math.abs((double) f) + 0.5), f);
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
        int[] L = new int[32];
        for (int j = 0; j < 32; j++) L[j] = Math.min(15, (byte) (int) (x[o + j] * id + 8.5f));
        GgmlQuants.putNibbles32(L, out);
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
        int[] L = new int[32];
        for (int j = 0; j < 32; j++) L[j] = Math.min(15, (byte) (int) ((x[o + j] - min) * id + 0.5f));
        GgmlQuants.putNibbles32(L, out);
    }

    private static void q5_0(float[] x, int o, ByteBuffer out) {
        float d = signedAbsMax(x, o) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(fp16(d));
        int[] L = new int[32];
        for (int j = 0; j < 32; j++) L[j] = Math.min(31, (byte) (int) (x[o + j] * id + 16.5f));
        GgmlQuants.putFiveBitQuants(L, out);
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
        int[] L = new int[32];
        for (int j = 0; j < 32; j++) L[j] = ((int) ((x[o + j] - min) * id + 0.5f)) & 0xFF;
        GgmlQuants.putFiveBitQuants(L, out);
    }

    // ---- K-quants (super-blocks of 256) ----

    /** quantize_row_q4_K_ref (nmax 15, rmin -1, 20 steps) and quantize_row_q5_K_ref (nmax 31, rmin -0.5, 15 steps). */
    private static void qK4or5(float[] x, int o, ByteBuffer out, boolean five) {
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
                    ? GgmlQuants.makeQkxQuants(32, 31, x, o + 32 * j, weights, L, 32 * j, theMin, laux, -0.5f, 0.1f, 15)
                    : GgmlQuants.makeQkxQuants(32, 15, x, o + 32 * j, weights, L, 32 * j, theMin, laux, -1.f, 0.1f, 20);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int[] ls = new int[8], lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, GgmlQuants.nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, GgmlQuants.nearestInt(invMin * mins[j]) & 0xFF);
        }
        GgmlQuants.putQ4or5_K(x, o, L, GgmlQuants.packScalesMinsK4(ls, lm), fp16(maxScale / 63.f), fp16(maxMin / 63.f), five, out);
    }

    /** quantize_row_q6_K_ref: make_qx_quants without importance weights per 16-element group, then the packing. */
    private static void q6_K(float[] x, int o, ByteBuffer out) {
        int[] L = new int[256];
        float[] scales = new float[16];
        for (int ib = 0; ib < 16; ib++) scales[ib] = GgmlQuants.makeQxQuants(16, 32, x, o + 16 * ib, L, 16 * ib, null, 0);
        GgmlQuants.putQ6_K(x, o, L, scales, out);
    }
}
