package ai.autoglm.core.format.safetensors;

import java.util.Arrays;

/**
 * Independent conversion: decode every 16-bit pattern from the format's definition, then pick the nearest
 * representable value (ties to the even pattern), treating the first value past the largest finite one as infinity.
 */
public final class HalfFloatReference {
    private static final double[] F16 = finite(false);
    private static final double[] BF16 = finite(true);

    public static double nearestF16(float x) {
        return nearest(F16, x, 65536.0);
    }

    public static double nearestBf16(float x) {
        return nearest(BF16, x, Math.pow(2, 128));
    }

    /** All non-negative finite values, index = bit pattern (so an even index is an even mantissa). */
    private static double[] finite(boolean bf16) {
        int expBits = bf16 ? 8 : 5, manBits = bf16 ? 7 : 10;
        int bias = (1 << (expBits - 1)) - 1;
        int maxExp = (1 << expBits) - 1;
        double[] out = new double[maxExp << manBits];
        for (int bits = 0; bits < out.length; bits++) {
            int e = bits >> manBits, m = bits & ((1 << manBits) - 1);
            out[bits] = e == 0
                    ? m * Math.pow(2, 1 - bias - manBits)
                    : ((1 << manBits) + m) * Math.pow(2, e - bias - manBits);
        }
        return out;
    }

    private static double nearest(double[] table, float x, double overflow) {
        if (Float.isNaN(x)) return Double.NaN;
        double a = Math.abs((double) x);
        double sign = Math.copySign(1.0, x);
        if (Double.isInfinite(a)) return sign * Double.POSITIVE_INFINITY;
        int i = Arrays.binarySearch(table, a);
        if (i >= 0) return sign * table[i];
        int hi = -i - 1; // first index with table[hi] > a
        double lower = table[hi - 1];
        double upper = hi < table.length ? table[hi] : overflow;
        double dl = a - lower, du = upper - a;
        int pick;
        if (dl < du) pick = hi - 1;
        else if (du < dl) pick = hi;
        else pick = (hi % 2 == 0) ? hi : hi - 1;
        double v = pick < table.length ? table[pick] : Double.POSITIVE_INFINITY;
        return sign * v;
    }
}
