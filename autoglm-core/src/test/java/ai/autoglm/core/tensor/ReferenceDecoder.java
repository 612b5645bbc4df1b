package ai.autoglm.core.tensor;

/**
 * An independent decoder of GGML block bytes, written from the block structs in ggml-common.h and the
 * dequantize_row_* formulas in ggml-quants.c, deliberately sharing no code with the main tensor classes: it
 * works on a plain byte[], decodes half floats from their bits by hand, and unpacks whole blocks in the
 * order the C code writes them. Also returns, per element, the grid of values its block can represent
 * (used by the quantization error checks).
 */
public final class ReferenceDecoder {
    private ReferenceDecoder() {
    }

    /** IEEE 754 binary16 from its bits, by the definition (sign, 5-bit exponent bias 15, 10-bit fraction). */
    public static float halfToFloat(int h) {
        int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, frac = h & 0x3FF;
        double v;
        if (exp == 0) v = frac * Math.pow(2, -24);
        else if (exp == 31) v = frac == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else v = (1 + frac / 1024.0) * Math.pow(2, exp - 15);
        return (float) (sign == 1 ? -v : v);
    }

    static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    static float half(byte[] b, int i) {
        return halfToFloat(u8(b, i) | (u8(b, i + 1) << 8));
    }

    static int u32(byte[] b, int i) {
        return u8(b, i) | (u8(b, i + 1) << 8) | (u8(b, i + 2) << 16) | (u8(b, i + 3) << 24);
    }

    /** Decodes n elements of type t from b. */
    public static float[] decode(GgmlType t, byte[] b, int n) {
        float[] y = new float[n];
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) y[i] = Float.intBitsToFloat(u32(b, 4 * i)); }
            case F16 -> { for (int i = 0; i < n; i++) y[i] = half(b, 2 * i); }
            case BF16 -> { for (int i = 0; i < n; i++) y[i] = Float.intBitsToFloat((u8(b, 2 * i) | (u8(b, 2 * i + 1) << 8)) << 16); }
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = blk * 34;
                    float d = half(b, o);
                    for (int j = 0; j < 32; j++) y[blk * 32 + j] = b[o + 2 + j] * d;
                }
            }
            case Q4_0, Q4_1, Q5_0, Q5_1 -> legacy(t, b, n, y);
            case Q4_K, Q5_K -> k45(t == GgmlType.Q5_K, b, n, y, null);
            case Q6_K -> q6k(b, n, y, null);
            case Q2_K -> q2k(b, n, y);
            case Q3_K -> q3k(b, n, y);
            default -> throw new IllegalArgumentException(t.toString());
        }
        return y;
    }

    private static void legacy(GgmlType t, byte[] b, int n, float[] y) {
        int bytes = t.typeSize;
        boolean hasMin = t == GgmlType.Q4_1 || t == GgmlType.Q5_1;
        boolean five = t == GgmlType.Q5_0 || t == GgmlType.Q5_1;
        for (int blk = 0; blk < n / 32; blk++) {
            int o = blk * bytes;
            float d = half(b, o);
            float m = hasMin ? half(b, o + 2) : 0;
            int p = o + (hasMin ? 4 : 2);
            int qh = 0;
            if (five) {
                qh = u32(b, p);
                p += 4;
            }
            for (int j = 0; j < 32; j++) {
                int byteVal = u8(b, p + (j % 16));
                int q = j < 16 ? byteVal & 15 : byteVal >> 4;
                if (five) q |= ((qh >>> j) & 1) << 4;
                y[blk * 32 + j] = hasMin ? q * d + m : (q - (five ? 16 : 8)) * d;
            }
        }
    }

    /** 6-bit scale/min pairs of the 12-byte K-quant scales field, written out from get_scale_min_k4. */
    private static int[][] scalesAndMins(byte[] b, int at) {
        int[][] r = new int[8][2];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                r[j][0] = u8(b, at + j) & 63;
                r[j][1] = u8(b, at + j + 4) & 63;
            } else {
                r[j][0] = (u8(b, at + j + 4) & 0xF) | ((u8(b, at + j - 4) >> 6) << 4);
                r[j][1] = (u8(b, at + j + 4) >> 4) | ((u8(b, at + j) >> 6) << 4);
            }
        }
        return r;
    }

    /** Q4_K / Q5_K; if grid != null, grid[e] = {step, offset, maxLevel}: representable values step*L - offset, L in [0, maxLevel]. */
    static void k45(boolean five, byte[] b, int n, float[] y, float[][] grid) {
        int bytes = five ? 176 : 144;
        for (int blk = 0; blk < n / 256; blk++) {
            int o = blk * bytes;
            float d = half(b, o), dmin = half(b, o + 2);
            int[][] sm = scalesAndMins(b, o + 4);
            int qh = o + 16, qs = five ? o + 48 : o + 16;
            for (int e = 0; e < 256; e++) {
                int sub = e / 32, l = e % 32;
                int byteVal = u8(b, qs + 32 * (sub / 2) + l);
                int q = sub % 2 == 0 ? byteVal & 15 : byteVal >> 4;
                if (five) q += ((u8(b, qh + l) >> sub) & 1) * 16;
                float step = d * sm[sub][0], off = dmin * sm[sub][1];
                y[blk * 256 + e] = step * q - off;
                if (grid != null) grid[blk * 256 + e] = new float[]{step, off, five ? 31 : 15};
            }
        }
    }

    /** Q6_K; grid[e] = {step, 0, ...}: representable values step * k, k in [-32, 31]. */
    static void q6k(byte[] b, int n, float[] y, float[][] grid) {
        for (int blk = 0; blk < n / 256; blk++) {
            int o = blk * 210;
            float d = half(b, o + 208);
            for (int e = 0; e < 256; e++) {
                int half128 = e / 128, r = e % 128, g = r / 32, l = r % 32;
                int ql = u8(b, o + 64 * half128 + l + (g % 2 == 1 ? 32 : 0));
                int low = g < 2 ? ql & 15 : ql >> 4;
                int high = (u8(b, o + 128 + 32 * half128 + l) >> (2 * g)) & 3;
                int q = (low | (high << 4)) - 32;
                int scale = b[o + 192 + 8 * half128 + l / 16 + 2 * g];
                float step = d * scale;
                y[blk * 256 + e] = step * q;
                if (grid != null) grid[blk * 256 + e] = new float[]{step, 0, 0};
            }
        }
    }

    /** The representable grid of every element of a K-quant tensor (see k45 / q6k). */
    public static float[][] kGrid(GgmlType t, byte[] b, int n) {
        float[][] grid = new float[n][];
        float[] y = new float[n];
        if (t == GgmlType.Q6_K) q6k(b, n, y, grid);
        else k45(t == GgmlType.Q5_K, b, n, y, grid);
        return grid;
    }

    /**
     * block_q2_K {scales[16], qs[64], d, dmin}: dequantize_row_q2_K's loops, two halves of 128 elements, four 2-bit
     * planes (shift 0, 2, 4, 6) of 32 bytes each, 16 elements per scale byte (low nibble scale, high nibble min).
     */
    static void q2k(byte[] b, int n, float[] y) {
        int out = 0;
        for (int blk = 0; blk < n / 256; blk++) {
            int o = blk * 84;
            float d = half(b, o + 80), dmin = half(b, o + 82);
            int is = 0;
            for (int h = 0; h < 2; h++) {
                int q = o + 16 + 32 * h;
                for (int shift = 0; shift < 8; shift += 2) {
                    for (int sixteen = 0; sixteen < 2; sixteen++) {
                        int sc = u8(b, o + is++);
                        for (int l = 0; l < 16; l++) {
                            y[out++] = d * (sc & 0xF) * ((u8(b, q + 16 * sixteen + l) >> shift) & 3) - dmin * (sc >> 4);
                        }
                    }
                }
            }
        }
    }

    /**
     * block_q3_K {hmask[32], qs[64], scales[12], d}: dequantize_row_q3_K, the 12 scale bytes first rearranged as its
     * four 32-bit aux words (kmask1 0x03030303, kmask2 0x0f0f0f0f) into 16 signed 6-bit scales, then the same loops as
     * Q2_K with the high bit from hmask (bit m, m doubling per plane): 4 subtracted where it is clear.
     */
    static void q3k(byte[] b, int n, float[] y) {
        int out = 0;
        for (int blk = 0; blk < n / 256; blk++) {
            int o = blk * 110;
            float d = half(b, o + 108);
            long a0 = u32(b, o + 96) & 0xFFFFFFFFL, a1 = u32(b, o + 100) & 0xFFFFFFFFL, tmp = u32(b, o + 104) & 0xFFFFFFFFL;
            long k1 = 0x03030303L, k2 = 0x0f0f0f0fL;
            long[] aux = {
                    (a0 & k2) | (((tmp) & k1) << 4),
                    (a1 & k2) | (((tmp >> 2) & k1) << 4),
                    ((a0 >> 4) & k2) | (((tmp >> 4) & k1) << 4),
                    ((a1 >> 4) & k2) | (((tmp >> 6) & k1) << 4)};
            int[] scales = new int[16];
            for (int i = 0; i < 16; i++) scales[i] = (byte) (aux[i / 4] >> (8 * (i % 4)));
            int is = 0, m = 1;
            for (int h = 0; h < 2; h++) {
                int q = o + 32 + 32 * h;
                for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                    for (int sixteen = 0; sixteen < 2; sixteen++) {
                        float dl = d * (scales[is++] - 32);
                        for (int l = 0; l < 16; l++) {
                            int idx = 16 * sixteen + l;
                            int low = (u8(b, q + idx) >> shift) & 3;
                            y[out++] = dl * (low - ((u8(b, o + idx) & m) != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }
}
