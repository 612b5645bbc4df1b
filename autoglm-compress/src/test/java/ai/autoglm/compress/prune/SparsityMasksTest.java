package ai.autoglm.compress.prune;

import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.core.model.DenseProjection;
import ai.autoglm.core.model.Projection;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SparsityMasksTest {

    private static float[] gaussian(Random r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) r.nextGaussian();
        return w;
    }

    /**
     * Plain reference: element i of a comparison group is pruned iff fewer than k members rank below it, ranking by
     * (score, position). O(n^2), written without sorting.
     */
    private static boolean[] referenceKeep(double[] scores, int[] groupOf, int groupCount, int[] prunePerGroup) {
        boolean[] keep = new boolean[scores.length];
        for (int i = 0; i < scores.length; i++) {
            int below = 0;
            for (int j = 0; j < scores.length; j++) {
                if (groupOf[j] != groupOf[i]) continue;
                if (scores[j] < scores[i] || (scores[j] == scores[i] && j < i)) below++;
            }
            keep[i] = below >= prunePerGroup[groupOf[i]];
        }
        return keep;
    }

    @Test
    void magnitudeComparesTheWholeMatrix() {
        Random r = new Random(1);
        int rows = 7, cols = 9;
        float[] w = gaussian(r, rows * cols);
        w[5] = w[6]; // a tie, broken by position
        double[] s = new double[w.length];
        for (int i = 0; i < w.length; i++) s[i] = Math.abs(w[i]);
        for (double sparsity : new double[]{0, 0.3, 0.5, 0.9}) {
            boolean[] keep = SparsityMasks.perMatrix(SparsityMasks.magnitudeScores(w), sparsity);
            assertThat(keep).isEqualTo(referenceKeep(s, new int[w.length], 1, new int[]{(int) Math.round(sparsity * w.length)}));
        }
    }

    @Test
    void wandaComparesEachOutputRowByWeightTimesColumnNorm() {
        Random r = new Random(2);
        int rows = 6, cols = 10;
        float[] w = gaussian(r, rows * cols);
        double[] sumSq = new double[cols];
        for (int j = 0; j < cols; j++) sumSq[j] = Math.pow(10, r.nextDouble() * 4 - 2);
        double[] s = new double[w.length];
        int[] group = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            s[i] = Math.abs(w[i]) * Math.sqrt(sumSq[i % cols]);
            group[i] = i / cols;
        }
        double[] scores = SparsityMasks.wandaScores(w, rows, cols, sumSq);
        for (int i = 0; i < s.length; i++) assertThat(scores[i]).isCloseTo(s[i], org.assertj.core.api.Assertions.within(1e-12));
        int[] k = new int[rows];
        java.util.Arrays.fill(k, 5);
        assertThat(SparsityMasks.perRow(scores, rows, cols, 0.5)).isEqualTo(referenceKeep(s, group, rows, k));
    }

    @Test
    void twoFourKeepsTheTwoLargestOfEveryFourConsecutiveInputs() {
        Random r = new Random(3);
        int rows = 5, cols = 12;
        float[] w = gaussian(r, rows * cols);
        double[] s = SparsityMasks.magnitudeScores(w);
        boolean[] keep = SparsityMasks.nOfM(s, rows, cols, 2, 4);
        for (int g = 0; g < w.length; g += 4) {
            int kept = 0;
            for (int i = g; i < g + 4; i++) {
                if (!keep[i]) continue;
                kept++;
                // a kept weight is at least as large as every pruned one of its group
                for (int j = g; j < g + 4; j++) if (!keep[j]) assertThat(Math.abs(w[i])).isGreaterThanOrEqualTo(Math.abs(w[j]));
            }
            assertThat(kept).isEqualTo(2);
        }
        assertThatThrownBy(() -> SparsityMasks.nOfM(new double[10], 2, 5, 2, 4)).hasMessageContaining("groups of 4");
    }

    @Test
    void sparsityOutsideZeroToOneIsRefused() {
        assertThatThrownBy(() -> SparsityMasks.perMatrix(new double[4], 1.0)).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> SparsityMasks.perRow(new double[4], 2, 2, -0.1)).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> SparsityPlan.unstructured(SparsityPlan.Score.MAGNITUDE, Double.NaN)).hasMessageContaining("sparsity");
    }

    /**
     * Inputs whose columns differ by orders of magnitude: magnitude pruning removes small weights on loud columns that
     * matter, Wanda weighs them by the activation norm. Measured as the output error on the calibration activations.
     */
    @Test
    void wandaBeatsMagnitudeWhenInputColumnsHaveDifferentScales() {
        Random r = new Random(4);
        int rows = 16, cols = 32, tokens = 64;
        float[] w = gaussian(r, rows * cols);
        float[] x = new float[tokens * cols];
        double[] scale = new double[cols];
        for (int j = 0; j < cols; j++) scale[j] = Math.pow(10, r.nextDouble() * 3 - 2);
        for (int t = 0; t < tokens; t++) for (int j = 0; j < cols; j++) x[t * cols + j] = (float) (r.nextGaussian() * scale[j]);
        // statistics the way calibration collects them: through a projection decorated by ActivationStatistics
        ActivationStatistics stats = new ActivationStatistics();
        Projection observed = stats.decorate("m", new DenseProjection(new ArrayFloatTensor(w), cols, rows));
        observed.apply(x, 0, new float[tokens * rows], 0, tokens);

        float[] magnitude = SparsityMasks.apply(w.clone(), SparsityMasks.perMatrix(SparsityMasks.magnitudeScores(w), 0.5));
        float[] wanda = SparsityMasks.apply(w.clone(), SparsityMasks.perRow(SparsityMasks.wandaScores(w, rows, cols, stats.sumOfSquares("m")), rows, cols, 0.5));
        assertThat(zeros(magnitude)).isEqualTo(zeros(wanda)).isEqualTo(rows * cols / 2);
        double magErr = outputError(w, magnitude, x, rows, cols, tokens);
        double wandaErr = outputError(w, wanda, x, rows, cols, tokens);
        assertThat(wandaErr).isLessThan(magErr);
    }

    private static int zeros(float[] w) {
        int n = 0;
        for (float v : w) if (v == 0f) n++;
        return n;
    }

    /** ||X W^T - X P^T||_F^2 in double. */
    private static double outputError(float[] w, float[] p, float[] x, int rows, int cols, int tokens) {
        double err = 0;
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < rows; o++) {
                double d = 0;
                for (int j = 0; j < cols; j++) d += (double) x[t * cols + j] * (w[o * cols + j] - p[o * cols + j]);
                err += d * d;
            }
        }
        return err;
    }
}
