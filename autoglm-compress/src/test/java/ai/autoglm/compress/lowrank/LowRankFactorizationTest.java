package ai.autoglm.compress.lowrank;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.TestModels;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.ProjectionDecorator;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LowRankFactorizationTest {
    @TempDir
    Path dir;

    /** Eckart–Young: the rank-r truncation's squared Frobenius error is the discarded singular values' energy. */
    @Test
    void reconstructionErrorIsTheDiscardedEnergy() {
        Random r = new Random(21);
        int rows = 12, cols = 9;
        double[] a = new double[rows * cols];
        for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian();
        Svd svd = Svd.of(a.clone(), rows, cols);
        for (int rank = 1; rank <= 9; rank++) {
            float[][] ab = LowRankFactorization.factor(svd, rank);
            double err = 0, discarded = 0;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double v = 0;
                    for (int p = 0; p < rank; p++) v += (double) ab[1][i * rank + p] * ab[0][p * cols + j];
                    err += (a[i * cols + j] - v) * (a[i * cols + j] - v);
                }
            }
            for (int p = rank; p < svd.k(); p++) discarded += svd.s()[p] * svd.s()[p];
            assertThat(err).as("rank %d", rank).isCloseTo(discarded, within(1e-5 * (1 + discarded)));
        }
    }

    @Test
    void fullRankFactorsGiveTheOriginalLogitsFromMemoryAndFromTheFile() {
        GgufModel model = TestModels.llama();
        LowRankFactorization.Result res = LowRankFactorization.apply(model, LowRankPlan.ofEnergy(1.0));
        assertThat(res.tensors()).hasSize(2 * 7);
        for (var f : res.tensors()) assertThat(f.rank()).as(f.name()).isEqualTo(Math.min(f.rows(), f.cols()));
        assertThat(res.model().weights().names()).contains("blk.0.attn_q.lr_a.weight", "blk.1.ffn_down.lr_b.weight")
                .doesNotContain("blk.0.attn_q.weight");
        float[] original = TestModels.logits(model.load(ProjectionDecorator.NONE));
        TestModels.assertClose(TestModels.logits(res.model().load(ProjectionDecorator.NONE)), original, 1e-4);

        Path out = dir.resolve("lr.gguf");
        res.model().write(out);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensorInfo("blk.0.attn_q.lr_a.weight").shape()).containsExactly(64, 64);
            assertThat(f.tensorInfo("blk.0.attn_k.lr_b.weight").shape()).containsExactly(32, 32);
            assertThat(f.tensorInfo("blk.0.ffn_down.lr_a.weight").shape()).containsExactly(160, 64);
            assertThat(f.tensorInfo("blk.0.ffn_down.lr_b.weight").shape()).containsExactly(64, 64);
        }
        TestModels.assertClose(TestModels.logits(ModelLoader.load(out)), original, 1e-4);
    }

    /**
     * At a low rank the engine's two matmuls equal a dense model whose weight is the product B·A, computed here in
     * double: the engine path for factors is checked independently of the SVD.
     */
    @Test
    void lowRankProjectionRunsTheProductOfTheFactors() {
        GgufModel model = TestModels.llama();
        LowRankFactorization.Result res = LowRankFactorization.apply(model, LowRankPlan.ofRank(8).withTensors(Pattern.compile("blk\\.\\d+\\.(attn_v|ffn_up)\\.weight")));
        WeightSource lr = res.model().weights();
        MapWeightSource dense = new MapWeightSource();
        for (String name : model.weights().names()) {
            String a = name.replace(".weight", ".lr_a.weight"), b = name.replace(".weight", ".lr_b.weight");
            long[] shape = model.weights().shape(name);
            if (lr.shape(a) == null) {
                dense.put(name, new ArrayFloatTensor(EditedWeights.floats(lr, name)), shape);
                continue;
            }
            float[] fa = EditedWeights.floats(lr, a), fb = EditedWeights.floats(lr, b);
            int in = (int) shape[0], out = (int) shape[1], rank = 8;
            float[] w = new float[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double v = 0;
                    for (int p = 0; p < rank; p++) v += (double) fb[o * rank + p] * fa[p * in + i];
                    w[o * in + i] = (float) v;
                }
            }
            dense.put(name, new ArrayFloatTensor(w), shape);
        }
        float[] expected = TestModels.logits(model.derive(model.metadata(), dense).load(ProjectionDecorator.NONE));
        float[] actual = TestModels.logits(res.model().load(ProjectionDecorator.NONE));
        TestModels.assertClose(actual, expected, 1e-4);
        float[] original = TestModels.logits(model.load(ProjectionDecorator.NONE));
        double diff = 0;
        for (int i = 0; i < original.length; i++) diff = Math.max(diff, Math.abs(original[i] - actual[i]));
        assertThat(diff).as("rank 8 changes the model").isGreaterThan(1e-3);
        for (var f : res.tensors()) assertThat(f.energyKept()).isBetween(0.0, 1.0).isLessThan(1.0);
    }

    @Test
    void badPlansAreRefused() {
        GgufModel model = TestModels.llama();
        assertThatThrownBy(() -> LowRankFactorization.apply(model, LowRankPlan.ofRank(33))).hasMessageContaining("--rank 33 exceeds min(32, 64)");
        assertThatThrownBy(() -> LowRankPlan.ofRank(0)).hasMessageContaining("--rank");
        assertThatThrownBy(() -> LowRankPlan.ofEnergy(1.5)).hasMessageContaining("--energy");
        assertThatThrownBy(() -> LowRankFactorization.apply(model, LowRankPlan.ofRank(4).withTensors(Pattern.compile("output\\.weight"))))
                .hasMessageContaining("only block projections");
        assertThatThrownBy(() -> LowRankFactorization.apply(model, LowRankPlan.ofRank(4).withTensors(Pattern.compile("nothing"))))
                .hasMessageContaining("matches no tensor");
    }
}
