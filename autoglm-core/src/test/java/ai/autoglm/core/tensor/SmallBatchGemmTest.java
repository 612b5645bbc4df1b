package ai.autoglm.core.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * {@link SmallBatchGemm}, the decode-step product over a few tokens, against a double-precision product of the
 * scalar reference {@link FloatTensor#getFloat}, for every GGML type the engine reads and k = 1..16 tokens: rows
 * longer than one {@link SmallBatchGemm#CHUNK} with a shorter last chunk, a row count that leaves a padded group,
 * a row length that is not a multiple of the lanes (F32/F16/BF16), offsets into x and out.
 */
class SmallBatchGemmTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void agreesWithTheScalarReference(GgmlType type) {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "the Vector API is off (the kernel is only used with it)");
        // two chunks, the second partial; for block-size-1 types also a tail that is not a multiple of 16 lanes
        int n = type.blockSize == 1 ? SmallBatchGemm.CHUNK + 77 : SmallBatchGemm.CHUNK + 2 * Math.max(type.blockSize, 256);
        int d = 2 * SmallBatchGemm.ROWS + 3;
        Random r = new Random(31 + type.id);
        float[] values = new float[d * n];
        for (int i = 0; i < values.length; i++) values[i] = (float) r.nextGaussian();
        FloatTensor w = Tensors.view(type, Quantizer.quantize(type, values), (long) d * n);
        SmallBatchGemm.Scratch scratch = new SmallBatchGemm.Scratch();
        for (int count = 1; count <= 16; count++) {
            int xOff = 3, outOff = 5;
            float[] x = new float[xOff + count * n];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] out = new float[outOff + count * d + 1];
            out[outOff + count * d] = 42f;
            for (int r0 = 0; r0 < d; r0 += SmallBatchGemm.ROWS) {
                SmallBatchGemm.rows(w, r0, n, x, xOff, count, out, outOff, d, scratch);
            }
            for (int t = 0; t < count; t++) {
                for (int row = 0; row < d; row++) {
                    double ref = 0, abs = 0;
                    for (int k = 0; k < n; k++) {
                        double p = (double) w.getFloat((long) row * n + k) * x[xOff + t * n + k];
                        ref += p;
                        abs += Math.abs(p);
                    }
                    double tol = n * 0x1p-24 * abs * 2 + 1e-6; // float summation in any order (Higham's gamma_n)
                    assertThat((double) out[outOff + t * d + row]).as("%s k=%d token %d row %d", type, count, t, row)
                            .isCloseTo(ref, offset(tol));
                }
            }
            assertThat(out[outOff + count * d]).as("nothing written past the result").isEqualTo(42f);
            assertThat(out[outOff - 1]).as("nothing written before the result").isEqualTo(0f);
        }
    }
}
