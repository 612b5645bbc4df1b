package ai.autoglm.compress.calib;

import ai.autoglm.core.model.DenseProjection;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.Projection;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ActivationStatisticsTest {

    @Test
    void sumsSquaresOfEachInputColumnAndLeavesTheOutputAlone() {
        int in = 5, outDim = 3, rows = 4;
        Random r = new Random(1);
        float[] w = new float[in * outDim];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        float[] x = new float[2 + rows * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Projection dense = new DenseProjection(new ArrayFloatTensor(w), in, outDim);
        ActivationStatistics stats = new ActivationStatistics();
        Projection observed = stats.decorate("blk.0.attn_q.weight", dense);

        float[] expectedOut = new float[rows * outDim], out = new float[rows * outDim];
        dense.apply(x, 2, expectedOut, 0, rows);
        observed.apply(x, 2, out, 0, rows);
        assertThat(out).containsExactly(expectedOut);

        double[] sums = stats.sumOfSquares("blk.0.attn_q.weight");
        for (int j = 0; j < in; j++) {
            double expected = 0;
            for (int t = 0; t < rows; t++) expected += (double) x[2 + t * in + j] * x[2 + t * in + j];
            assertThat(sums[j]).isCloseTo(expected, within(1e-9));
        }
        assertThat(stats.rows("blk.0.attn_q.weight")).isEqualTo(rows);
    }

    @Test
    void collectsEveryProjectionOfAModelForEveryToken() {
        ModelFixtures.Spec s = ModelFixtures.llama();
        MapWeightSource src = ModelFixtures.ggufLayout(s, ModelFixtures.hfWeights(s));
        ModelConfig c = ModelConfig.fromGguf(ModelFixtures.ggufMetadata(s), src);
        ActivationStatistics stats = new ActivationStatistics();
        try (LanguageModel m = new TransformerModel(c, src, null, null, null, stats)) {
            m.forward(m.newState(8), new int[]{1, 2, 3, 4, 5}, 0, 5, true);
        }
        assertThat(stats.names()).hasSize(7 * c.layers() + 1).contains("blk.1.ffn_down.weight", "output.weight");
        for (String name : stats.names()) assertThat(stats.rows(name)).as(name).isEqualTo(5);
        assertThat(stats.sumOfSquares("blk.0.ffn_down.weight")).hasSize(c.ffnDim());
    }
}
