package ai.autoglm.compress.prune;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.TensorRole;

/**
 * Calibration-driven importance of attention heads and MLP channels. A head or channel reaches the residual stream
 * only through some input columns {@code j} of the projection after it ({@code attn_output}, {@code ffn_down}); what
 * column {@code j} adds over the calibration tokens has squared norm
 * {@code sum_t ||W[:, j] x_tj||^2 = ||W[:, j]||^2 * sum_t x_tj^2}, so a structure's importance is that sum over its
 * columns. This is Wanda's {@code |W| * ||X||} criterion summed over the weights a structure owns (the "Wanda-sp"
 * structured baseline of An et al. 2024, "Fluctuation-based Adaptive Structured Pruning for LLMs"); a head's
 * within-head cross terms are ignored. Weight magnitude alone would miss heads whose outputs are tiny or huge.
 */
public final class StructuralImportance {
    private StructuralImportance() {
    }

    /** One score per query head of {@code layer}. */
    public static double[] heads(GgufModel model, ActivationStatistics stats, int layer) {
        ModelConfig c = model.config();
        double[] col = columnImportance(model, stats, TensorRole.ATTN_OUT.tensorName(layer), c.qDim());
        double[] s = new double[c.heads()];
        for (int j = 0; j < col.length; j++) s[j / c.headDim()] += col[j];
        return s;
    }

    /** One score per key/value group of {@code layer}: the sum of its query heads' scores. */
    public static double[] kvGroups(double[] headScores, int kvHeads) {
        int group = headScores.length / kvHeads;
        double[] g = new double[kvHeads];
        for (int h = 0; h < headScores.length; h++) g[h / group] += headScores[h];
        return g;
    }

    /** One score per MLP channel of {@code layer}. */
    public static double[] ffnChannels(GgufModel model, ActivationStatistics stats, int layer) {
        return columnImportance(model, stats, TensorRole.FFN_DOWN.tensorName(layer), model.config().ffnDim());
    }

    /** {@code ||W[:, j]||^2 * sum_t x_tj^2} for each input column {@code j} of tensor {@code name}. */
    static double[] columnImportance(GgufModel model, ActivationStatistics stats, String name, int cols) {
        if (stats == null) throw new IllegalArgumentException("structured pruning of heads and channels needs calibration statistics (--calib)");
        if (model.weights().shape(name) == null) {
            throw new IllegalArgumentException("tensor " + name + " is not a dense matrix (already factored?); prune before low-rank factorisation");
        }
        double[] sumSq = stats.sumOfSquares(name);
        if (sumSq == null || sumSq.length != cols) throw new IllegalArgumentException("no calibration statistics for " + name);
        float[] w = EditedWeights.floats(model.weights(), name);
        int rows = w.length / cols;
        double[] s = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) s[j] += (double) w[r * cols + j] * w[r * cols + j];
        }
        for (int j = 0; j < cols; j++) s[j] *= sumSq[j];
        return s;
    }
}
