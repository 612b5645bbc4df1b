package ai.autoglm.core.quant;

import ai.autoglm.core.testing.GgmlReference;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Tensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The weighted (imatrix) quantizers against ggml's compiled {@code ggml_quantize_chunk} (bit for bit), and the
 * property the importance matrix exists for: the importance-weighted squared error is lower than the reference
 * quantization's on data with a few dominant columns.
 */
class ImportanceQuantizerTest {
    static final int ROW = 512, ROWS = 6;

    /** Gaussian rows with heavy-tailed outliers and an all-zero block, the cases that exercise every branch. */
    static float[] weights(long seed) {
        Random r = new Random(seed);
        float[] x = new float[ROW * ROWS];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 0.02);
        for (int i = 0; i < 40; i++) x[r.nextInt(x.length)] *= 30;
        for (int i = 0; i < 32; i++) x[ROW * 2 + 64 + i] = 0; // one all-zero 32-block
        for (int i = 0; i < 16; i++) x[ROW * 3 + i] = Math.abs(x[ROW * 3 + i]); // a one-signed group
        return x;
    }

    /** Per-column mean squares as llama-quantize reads them: a few dominant columns, some zeros, the rest small. */
    static float[] importance(long seed) {
        Random r = new Random(seed);
        float[] w = new float[ROW];
        for (int j = 0; j < ROW; j++) w[j] = (float) (r.nextDouble() * 0.5);
        for (int j = 0; j < 12; j++) w[r.nextInt(ROW)] = 50 + r.nextFloat() * 50;
        for (int j = 0; j < 5; j++) w[r.nextInt(ROW)] = 0;
        return w;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void matchesGgmlBitForBitWithAndWithoutImatrix(GgmlType type) {
        for (long seed = 1; seed <= 3; seed++) {
            float[] x = weights(seed);
            float[] qw = importance(seed + 100);
            assertThat(bytes(ImportanceQuantizer.quantize(type, x, ROW, qw)))
                    .as("%s with imatrix, seed %d", type, seed).isEqualTo(GgmlReference.quantize(type, x, ROW, qw));
            assertThat(bytes(ImportanceQuantizer.quantize(type, x, ROW, null)))
                    .as("%s without imatrix, seed %d", type, seed).isEqualTo(GgmlReference.quantize(type, x, ROW, null));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void imatrixLowersTheImportanceWeightedError(GgmlType type) {
        float[] x = weights(7);
        float[] qw = importance(8);
        double weighted = weightedError(type, x, ImportanceQuantizer.quantize(type, x, ROW, qw), qw);
        double plain = weightedError(type, x, ImportanceQuantizer.quantize(type, x, ROW, null), qw);
        assertThat(weighted).as("%s: sum_j imatrix_j * (w - q(w))^2, imatrix-weighted vs reference", type).isLessThan(plain);
    }

    /**
     * Relative RMS round-trip error on Gaussian rows, with and without an imatrix, below a bound from the step size:
     * a uniform quantizer with step {@code s} has RMS error {@code s / sqrt(12)}. Per block of 32 (16 for Q6_K) the
     * largest |x| of Gaussians is about 2.5 sigma (the range about 4 sigma), so the steps are: Q8_0 2.5/127,
     * Q4_0 2.5/8, Q5_0 2.5/16, Q4_1 and Q4_K 4/15, Q5_1 and Q5_K 4/31, Q6_K 2.2/32 (in sigma). The bound is 1.5 times
     * {@code step / sqrt(12)} (the margin covers blocks with a larger maximum and the 6-bit K scales).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void roundTripErrorIsWithinTheStepBound(GgmlType type) {
        Random r = new Random(11);
        float[] x = new float[ROW * 16];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        double step = switch (type) {
            case Q8_0 -> 2.5 / 127;
            case Q4_0 -> 2.5 / 8;
            case Q5_0 -> 2.5 / 16;
            case Q4_1, Q4_K -> 4.0 / 15;
            case Q5_1, Q5_K -> 4.0 / 31;
            case Q6_K -> 2.2 / 32;
            default -> throw new IllegalStateException();
        };
        double bound = 1.5 * step / Math.sqrt(12);
        float[] ones = new float[ROW];
        java.util.Arrays.fill(ones, 1f);
        for (float[] qw : new float[][]{null, importance(12)}) {
            double rel = Math.sqrt(weightedError(type, x, ImportanceQuantizer.quantize(type, x, ROW, qw), ones) / x.length);
            assertThat(rel).as("%s relative RMS error (imatrix %s), bound %.4f", type, qw != null, bound).isLessThan(bound);
        }
    }

    /** {@code sum_rows sum_j imatrix_j (x_j - dequant_j)^2}, dequantized by core's tensor readers. */
    static double weightedError(GgmlType type, float[] x, MemorySegment q, float[] qw) {
        var t = Tensors.view(type, q, x.length);
        double e = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - t.getFloat(i);
            e += qw[i % ROW] * d * d;
        }
        return e;
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }
}
