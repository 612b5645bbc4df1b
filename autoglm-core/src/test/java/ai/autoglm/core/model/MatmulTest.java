package ai.autoglm.core.model;

import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.PanelGemm;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * {@link Parallel#matmul}, the whole prefill product (the {@link PanelGemm} panels from {@link PanelGemm#MIN_TOKENS}
 * tokens on, the per-row kernels below, the row-by-row tail of a matrix whose row count is not a multiple of
 * {@link PanelGemm#ROWS}), against a double-precision product of {@code getFloat}, for every type, token
 * counts around the kernels' group widths, odd row counts, offsets into x and out, on one and on three threads.
 */
class MatmulTest {
    private final int threadsBefore = ComputeThreads.count();
    private final KernelChoice.Mode kernelsBefore = KernelChoice.mode();

    /** The Java kernels (the reference the native ones are tested against, in NativeMatmulTest), whatever auto picks. */
    @BeforeEach
    void javaKernels() {
        KernelChoice.set(KernelChoice.Mode.JAVA);
    }

    @AfterEach
    void restoreThreads() {
        ComputeThreads.set(threadsBefore);
        KernelChoice.set(kernelsBefore);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void matmulAgreesWithTheDoublePrecisionProduct(GgmlType type) {
        int n = type.blockSize == 1 ? 77 : 2 * type.blockSize;
        int d = 2 * PanelGemm.ROWS + 3; // two panels and a tail of 3 rows
        Random r = new Random(17 + type.id);
        float[] values = new float[d * n];
        for (int i = 0; i < values.length; i++) values[i] = (float) r.nextGaussian();
        FloatTensor w = Tensors.view(type, Quantizer.quantize(type, values), (long) d * n);
        for (int threads : new int[]{1, 3}) {
            ComputeThreads.set(threads);
            for (int count : new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 70}) {
                check(w, n, d, count, r);
            }
        }
    }

    /** Inf and NaN weights reach the output as the scalar product has them (the F16 decode kernel's short conversion must not run). */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void infAndNanWeightsPropagate(GgmlType type) {
        int n = 64, d = 4;
        float[] values = new float[d * n];
        java.util.Arrays.fill(values, 0.5f);
        values[n + 5] = Float.POSITIVE_INFINITY;
        values[2 * n + 7] = Float.NaN;
        FloatTensor w = Tensors.view(type, Quantizer.quantize(type, values), (long) d * n);
        float[] x = new float[n];
        java.util.Arrays.fill(x, 1f);
        float[] out = new float[d];
        Parallel.matmul(w, x, 0, n, out, 0, d, 1);
        assertThat(out[0]).isEqualTo(32f);
        assertThat(out[1]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(out[2]).isNaN();
        assertThat(out[3]).isEqualTo(32f);
    }

    /** A heap F32 weight (LoRA factors, low-rank factors) takes the same paths. */
    @Test
    void heapWeightsToo() {
        int n = 40, d = 13;
        Random r = new Random(5);
        float[] values = new float[d * n];
        for (int i = 0; i < values.length; i++) values[i] = (float) r.nextGaussian();
        for (int count : new int[]{2, 3, 5, 8, 40}) check(new ArrayFloatTensor(values), n, d, count, r);
    }

    private static void check(FloatTensor w, int n, int d, int count, Random r) {
        int xOff = 3, outOff = 5;
        float[] x = new float[xOff + count * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] out = new float[outOff + count * d + 2];
        out[outOff + count * d] = 42f; // a canary past the result
        Parallel.matmul(w, x, xOff, n, out, outOff, d, count);
        for (int t = 0; t < count; t++) {
            for (int row = 0; row < d; row++) {
                double ref = 0, abs = 0;
                for (int k = 0; k < n; k++) {
                    double p = (double) w.getFloat((long) row * n + k) * x[xOff + t * n + k];
                    ref += p;
                    abs += Math.abs(p);
                }
                // Float summation in any order is within n * 2^-24 * sum|w x| (Higham's gamma_n bound).
                double tol = n * 0x1p-24 * abs * 2 + 1e-6;
                assertThat((double) out[outOff + t * d + row]).as("%s count %d token %d row %d", w.type(), count, t, row)
                        .isCloseTo(ref, offset(tol));
            }
        }
        assertThat(out[outOff + count * d]).as("nothing written past the result").isEqualTo(42f);
        assertThat(out[outOff - 1]).as("nothing written before the result").isEqualTo(0f);
    }
}
