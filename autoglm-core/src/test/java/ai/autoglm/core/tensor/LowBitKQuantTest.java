package ai.autoglm.core.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * Q2_K and Q3_K, read so that llama-quantize's Q2_K and Q3_K_M files load: on random block bytes (every bit pattern of
 * scales, mins, quants and high bits; the halves set to finite values), getFloat and the block decoder against the
 * independent {@link ReferenceDecoder} (which follows dequantize_row_q2_K/q3_K loop for loop), and the dot, the
 * several-token dot and the partial-block paths against a double-precision product of getFloat.
 */
class LowBitKQuantTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K"})
    void decodingMatchesTheReferenceAndDotsAgree(GgmlType type) {
        Random r = new Random(7 + type.id);
        int rows = 5, n = 3 * 256;
        byte[] bytes = new byte[(int) type.bytesFor((long) rows * n)];
        r.nextBytes(bytes);
        int[] halves = type == GgmlType.Q2_K ? new int[]{80, 82} : new int[]{108};
        for (int blk = 0; blk < bytes.length / type.typeSize; blk++) {
            for (int a : halves) {
                short h = Float.floatToFloat16((float) (r.nextGaussian() * 0.05));
                bytes[blk * type.typeSize + a] = (byte) h;
                bytes[blk * type.typeSize + a + 1] = (byte) (h >> 8);
            }
        }
        MemorySegment off = Arena.ofAuto().allocate(bytes.length, 64);
        off.copyFrom(MemorySegment.ofArray(bytes));
        FloatTensor w = Tensors.view(type, off, (long) rows * n);
        assertThat(w.type()).isEqualTo(type);
        float[] ref = ReferenceDecoder.decode(type, bytes, rows * n);
        for (int i = 0; i < ref.length; i++) assertThat(w.getFloat(i)).as("%s element %d", type, i).isEqualTo(ref[i]);
        float[] copied = new float[rows * n];
        w.copyTo(0, copied, 0, rows * n);
        assertThat(copied).containsExactly(ref);

        float[] x = new float[4 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int row = 0; row < rows; row++) {
            assertThat((double) w.dot((long) row * n, x, 1, n)).isCloseTo(exact(ref, row * n, x, 1, n), offset(tol(ref, row * n, x, 1, n)));
            // a partial head and tail block (offsets not on a block boundary)
            assertThat((double) w.dot((long) row * n + 3, x, 2, n - 40)).isCloseTo(exact(ref, row * n + 3, x, 2, n - 40), offset(tol(ref, row * n + 3, x, 2, n - 40)));
            float[] out = new float[4];
            w.dotMany((long) row * n, n, x, 0, n, 3, out, 0, 1);
            for (int t = 0; t < 3; t++) assertThat((double) out[t]).isCloseTo(exact(ref, row * n, x, t * n, n), offset(tol(ref, row * n, x, t * n, n)));
        }
    }

    private static double exact(float[] w, int wo, float[] x, int xo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) w[wo + i] * x[xo + i];
        return s;
    }

    private static double tol(float[] w, int wo, float[] x, int xo, int n) {
        double abs = 0;
        for (int i = 0; i < n; i++) abs += Math.abs((double) w[wo + i] * x[xo + i]);
        return 4 * n * 0x1p-24 * abs + 1e-6;
    }
}
