package ai.autoglm.core.model;

import ai.autoglm.core.tensor.ArrayFloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LowRankProjectionTest {

    @Test
    void appliesFactorAThenFactorBToEveryRow() {
        Random r = new Random(5);
        int in = 6, rank = 2, out = 5, n = 3;
        float[] a = new float[rank * in], b = new float[out * rank], x = new float[1 + n * in];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        LowRankProjection p = new LowRankProjection(new DenseProjection(new ArrayFloatTensor(a), in, rank),
                new DenseProjection(new ArrayFloatTensor(b), rank, out));
        float[] y = new float[2 + n * out];
        p.apply(x, 1, y, 2, n);
        for (int t = 0; t < n; t++) {
            for (int o = 0; o < out; o++) {
                double v = 0;
                for (int q = 0; q < rank; q++) {
                    double ax = 0;
                    for (int i = 0; i < in; i++) ax += a[q * in + i] * x[1 + t * in + i];
                    v += b[o * rank + q] * ax;
                }
                assertThat((double) y[2 + t * out + o]).isCloseTo(v, within(1e-4));
            }
        }
        assertThat(p.inputDim()).isEqualTo(in);
        assertThat(p.outputDim()).isEqualTo(out);
        assertThat(p.rank()).isEqualTo(rank);
    }

    @Test
    void namesAndMismatchedFactors() {
        assertThat(LowRankProjection.factorA("blk.3.attn_q.weight")).isEqualTo("blk.3.attn_q.lr_a.weight");
        assertThat(LowRankProjection.factorB("blk.3.attn_q.weight")).isEqualTo("blk.3.attn_q.lr_b.weight");
        assertThatThrownBy(() -> new LowRankProjection(new DenseProjection(new ArrayFloatTensor(new float[6]), 3, 2),
                new DenseProjection(new ArrayFloatTensor(new float[6]), 3, 2))).hasMessageContaining("factor A has 2 outputs");
    }
}
