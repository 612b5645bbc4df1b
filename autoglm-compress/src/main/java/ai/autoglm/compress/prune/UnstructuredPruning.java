package ai.autoglm.compress.prune;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.core.model.WeightSource;

/**
 * Zeroes weights by {@link SparsityPlan}: magnitude compared over each whole matrix, Wanda per output row, 2:4 per
 * group of four consecutive inputs. Shapes stay the same, so the file is as large and as slow as before: the zeros pay
 * off only once a sparse format or compression stores them (and 2:4 only on hardware with sparse tensor cores).
 * Wanda's statistics come from one pass of the dense model over the calibration text; the paper's code instead feeds
 * each layer the output of the already-pruned layers before it (a sequential refinement left out here).
 */
public final class UnstructuredPruning {
    private UnstructuredPruning() {
    }

    /** The pruned model (sharing {@code model}'s untouched tensors); {@code stats} may be null for magnitude. */
    public static GgufModel prune(GgufModel model, SparsityPlan plan, ActivationStatistics stats) {
        if (plan.score() == SparsityPlan.Score.WANDA && stats == null) {
            throw new IllegalArgumentException("Wanda needs calibration statistics (--calib)");
        }
        WeightSource weights = model.weights();
        EditedWeights edited = EditedWeights.of(weights);
        int pruned = 0;
        for (String name : weights.names()) {
            if (!plan.tensors().matcher(name).matches()) continue;
            long[] shape = weights.shape(name);
            if (shape.length != 2) continue;
            int cols = Math.toIntExact(shape[0]), rows = Math.toIntExact(shape[1]);
            float[] w = EditedWeights.floats(weights, name);
            double[] scores;
            if (plan.score() == SparsityPlan.Score.WANDA) {
                double[] sumSq = stats.sumOfSquares(name);
                if (sumSq == null) throw new IllegalArgumentException("no calibration statistics for " + name + " (is it a projection the model runs?)");
                scores = SparsityMasks.wandaScores(w, rows, cols, sumSq);
            } else {
                scores = SparsityMasks.magnitudeScores(w);
            }
            boolean[] keep = switch (plan.pattern()) {
                case TWO_FOUR -> {
                    if (cols % 4 != 0) throw new IllegalArgumentException("2:4 sparsity needs rows that are multiples of 4; " + name + " has " + cols);
                    yield SparsityMasks.nOfM(scores, rows, cols, 2, 4);
                }
                case UNSTRUCTURED -> plan.score() == SparsityPlan.Score.WANDA
                        ? SparsityMasks.perRow(scores, rows, cols, plan.sparsity())
                        : SparsityMasks.perMatrix(scores, plan.sparsity());
            };
            edited.put(name, SparsityMasks.apply(w, keep), shape, EditedWeights.storageType(weights, name));
            pruned++;
        }
        if (pruned == 0) throw new IllegalArgumentException("no tensor matches " + plan.tensors().pattern());
        return model.derive(model.metadata(), edited);
    }
}
