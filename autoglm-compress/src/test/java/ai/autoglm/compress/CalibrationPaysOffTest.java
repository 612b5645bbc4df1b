package ai.autoglm.compress;

import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.compress.eval.EvalSettings;
import ai.autoglm.compress.eval.QualityEvaluator;
import ai.autoglm.compress.imatrix.ImatrixCollector;
import ai.autoglm.core.quant.ImportanceMatrix;
import ai.autoglm.compress.prune.SparsityPlan;
import ai.autoglm.compress.prune.UnstructuredPruning;
import ai.autoglm.core.quant.ModelQuantizer;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.ProjectionDecorator;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The claims behind calibration, measured end to end with {@link QualityEvaluator} (KL divergence from the base over
 * held-out text, not the per-matrix error the unit tests check): on a model whose projections see skewed inputs (a few
 * channels of every RMSNorm weight scaled up, as trained LLMs' outlier features, Dettmers et al. 2022 "LLM.int8()"),
 * imatrix-weighted Q4_0 diverges less than unweighted Q4_0, and Wanda pruning less than magnitude pruning at 50 %.
 * The calibration text and the evaluation text are different.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CalibrationPaysOffTest {
    private static final int CTX = 32;
    /** Every 8th channel of the norm weights scaled by this: the projections' inputs get outlier columns. */
    private static final float OUTLIER_SCALE = 12f;

    @TempDir
    Path dir;
    private GgufModel base;
    private LanguageModel baseModel;
    private ActivationStatistics stats;
    private String heldOut;

    @BeforeAll
    void setUp() {
        GgufModel plain = TestModels.llama();
        EditedWeights w = EditedWeights.of(plain.weights());
        for (String name : plain.weights().names()) {
            if (!name.endsWith("_norm.weight") || !name.startsWith("blk.")) continue;
            float[] v = EditedWeights.floats(plain.weights(), name);
            for (int i = 0; i < v.length; i += 8) v[i] *= OUTLIER_SCALE;
            w.put(name, v, plain.weights().shape(name), GgmlType.F32);
        }
        base = plain.derive(plain.metadata(), w);
        baseModel = base.load(ProjectionDecorator.NONE);
        stats = Calibration.collect(base, TestModels.CALIBRATION, 512);
        String[] words = {"tell", "the", "wor", "ld", "over", "gold", "fox", "her", "well", "明月", "地上", "again"};
        Random r = new Random(11);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 200; i++) b.append(i > 0 ? " " : "").append(words[r.nextInt(words.length)]);
        heldOut = b.toString();
    }

    @AfterAll
    void close() {
        if (baseModel != null) baseModel.close();
    }

    private double meanKld(LanguageModel model) {
        try (model) {
            QualityEvaluator e = new QualityEvaluator(EvalSettings.defaults().withContext(CTX).withSpeedRepetitions(0), line -> { });
            return e.evaluate(model, "candidate", baseModel, "base", heldOut).vsBase().meanKld();
        }
    }

    private LanguageModel q4_0(ImportanceMatrix imatrix, String name) {
        Path source = dir.resolve("base.gguf");
        if (!source.toFile().exists()) base.write(source);
        Path out = dir.resolve(name + ".gguf");
        ModelQuantizer.quantizeFile(source, out, new QuantizationOptions(QuantPreset.Q4_0, List.of(), imatrix != null), imatrix, null, null);
        return ModelLoader.load(out);
    }

    @Test
    void imatrixWeightedQ4_0DivergesLessThanUnweighted() {
        ImportanceMatrix imatrix = ImatrixCollector.fromStatistics(stats, n -> n.startsWith("blk."), List.of("calibration"), 1, 512);
        assertThat(imatrix.entries()).isNotEmpty();
        double plain = meanKld(q4_0(null, "q4_0"));
        double weighted = meanKld(q4_0(imatrix, "q4_0-imatrix"));
        System.out.printf("fixture Q4_0 mean KLD: %.6f without imatrix, %.6f with%n", plain, weighted);
        assertThat(plain).isGreaterThan(0);
        assertThat(weighted).isLessThan(plain);
    }

    @Test
    void wandaDivergesLessThanMagnitudeAtHalfSparsity() {
        double magnitude = meanKld(UnstructuredPruning.prune(base, SparsityPlan.unstructured(SparsityPlan.Score.MAGNITUDE, 0.5), stats)
                .load(ProjectionDecorator.NONE));
        double wanda = meanKld(UnstructuredPruning.prune(base, SparsityPlan.unstructured(SparsityPlan.Score.WANDA, 0.5), stats)
                .load(ProjectionDecorator.NONE));
        System.out.printf("fixture 50 %% sparsity mean KLD: magnitude %.6f, Wanda %.6f%n", magnitude, wanda);
        assertThat(wanda).isLessThan(magnitude);
    }
}
