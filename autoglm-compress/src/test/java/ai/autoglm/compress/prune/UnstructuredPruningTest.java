package ai.autoglm.compress.prune;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.TestModels;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.model.ModelLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UnstructuredPruningTest {
    @TempDir
    Path dir;

    @Test
    void zeroesTheBlockProjectionsOnlyAndKeepsEveryShape() {
        GgufModel model = TestModels.llama();
        ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 512);
        for (SparsityPlan plan : new SparsityPlan[]{SparsityPlan.unstructured(SparsityPlan.Score.MAGNITUDE, 0.5),
                SparsityPlan.unstructured(SparsityPlan.Score.WANDA, 0.5), SparsityPlan.twoFour(SparsityPlan.Score.WANDA)}) {
            GgufModel pruned = UnstructuredPruning.prune(model, plan, stats);
            assertThat(pruned.weights().names()).containsExactlyElementsOf(model.weights().names());
            for (String name : model.weights().names()) {
                assertThat(pruned.weights().shape(name)).as(name).isEqualTo(model.weights().shape(name));
                float[] before = EditedWeights.floats(model.weights(), name), after = EditedWeights.floats(pruned.weights(), name);
                int zeros = 0;
                for (int i = 0; i < after.length; i++) {
                    if (after[i] == 0f) zeros++;
                    else assertThat(after[i]).isEqualTo(before[i]);
                }
                if (SparsityPlan.DEFAULT_TENSORS.matcher(name).matches()) {
                    assertThat(zeros).as(name).isEqualTo(after.length / 2);
                } else {
                    assertThat(after).as(name).isEqualTo(before);
                }
            }
        }
    }

    @Test
    void prunedFileLoadsAndRunsAsTheInMemoryModelWithTheSameTensorSizes() throws Exception {
        GgufModel model = TestModels.llama();
        GgufModel pruned = UnstructuredPruning.prune(model, SparsityPlan.unstructured(SparsityPlan.Score.MAGNITUDE, 0.6), null);
        Path out = dir.resolve("pruned.gguf");
        pruned.write(out);
        float[] expected = TestModels.logits(pruned.load(ai.autoglm.core.model.ProjectionDecorator.NONE));
        TestModels.assertClose(TestModels.logits(ModelLoader.load(out)), expected, 1e-6);
        try (GgufFile f = GgufFile.open(out)) {
            for (GgufTensorInfo t : f.tensorInfos()) {
                assertThat(t.shape()).isEqualTo(model.weights().shape(t.name()));
                assertThat(t.byteSize()).as("unstructured sparsity saves no bytes in a dense type").isEqualTo(t.elements() * 4);
            }
        }
    }

    @Test
    void wandaWithoutCalibrationIsRefused() {
        assertThatThrownBy(() -> UnstructuredPruning.prune(TestModels.llama(), SparsityPlan.unstructured(SparsityPlan.Score.WANDA, 0.5), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--calib");
    }
}
