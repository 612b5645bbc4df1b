package ai.autoglm.core.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * The K-quant decode kernels against a prepared x ({@link FloatTensor#prepare}/{@link FloatTensor#dotPrepared}:
 * repacked block scales, x with per-block mins) against a double-precision product of the bytes decoded by the
 * independent {@link ReferenceDecoder}, for rows of 1, 3 and 8 blocks, every row of an odd row count, and blocks with
 * extreme scales and mins (all 6-bit values, negative Q6_K scales) as well as quantized Gaussian weights.
 */
class KQuantDecodeTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void preparedDotAgreesWithTheReferenceDecoder(GgmlType type) {
        Random r = new Random(99 + type.id);
        for (int blocksPerRow : new int[]{1, 3, 8}) {
            int n = 256 * blocksPerRow, rows = 7;
            for (boolean randomBytes : new boolean[]{false, true}) {
                byte[] bytes;
                if (randomBytes) {
                    bytes = new byte[(int) type.bytesFor((long) rows * n)];
                    r.nextBytes(bytes);
                    saneHalves(type, bytes, r);
                } else {
                    float[] v = new float[rows * n];
                    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                    MemorySegmentBytes seg = new MemorySegmentBytes(Quantizer.quantize(type, v));
                    bytes = seg.bytes;
                }
                java.lang.foreign.MemorySegment off = java.lang.foreign.Arena.ofAuto().allocate(bytes.length, 64);
                off.copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
                FloatTensor w = Tensors.view(type, off, (long) rows * n);
                float[] ref = ReferenceDecoder.decode(type, bytes, rows * n);
                float[] x = new float[n + 5];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                PreparedVector pv = new PreparedVector();
                if (!VectorSupport.ENABLED) {
                    assertThat(w.prepare(x, 5, n, pv)).as("no prepared kernel on the scalar path").isFalse();
                    continue;
                }
                assertThat(w.prepare(x, 5, n, pv)).isTrue();
                for (int row = 0; row < rows; row++) {
                    double exact = 0, abs = 0;
                    for (int k = 0; k < n; k++) {
                        double p = (double) ref[row * n + k] * x[5 + k];
                        exact += p;
                        abs += Math.abs(p);
                    }
                    // float products and sums in any order: within a few n * 2^-24 * sum|w x| (Higham's gamma_n)
                    double tol = 4 * n * 0x1p-24 * abs + 1e-5;
                    assertThat((double) w.dotPrepared((long) row * n, pv))
                            .as("%s, %d blocks per row, row %d, %s", type, blocksPerRow, row, randomBytes ? "random bytes" : "quantized")
                            .isCloseTo(exact, offset(tol));
                }
            }
        }
    }

    /** Random bytes but with the block's halves (d, dmin) set to finite values of moderate size. */
    private static void saneHalves(GgmlType type, byte[] b, Random r) {
        int[] at = switch (type) {
            case Q4_K, Q5_K -> new int[]{0, 2};
            case Q6_K -> new int[]{208};
            default -> throw new IllegalArgumentException(type.toString());
        };
        for (int blk = 0; blk < b.length / type.typeSize; blk++) {
            for (int a : at) {
                short h = Float.floatToFloat16((float) (r.nextGaussian() * 0.01));
                b[blk * type.typeSize + a] = (byte) h;
                b[blk * type.typeSize + a + 1] = (byte) (h >> 8);
            }
        }
    }

    private record MemorySegmentBytes(byte[] bytes) {
        MemorySegmentBytes(java.lang.foreign.MemorySegment s) {
            this(s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }
}
