package ai.autoglm.compress.quant;

import ai.autoglm.compress.testing.GgmlReference;
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
