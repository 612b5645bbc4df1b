package ai.autoglm.compress.prune;

import java.util.Arrays;

/**
 * Scores and keep-masks for unstructured and N:M sparsity, on one weight matrix of {@code rows} outputs by {@code cols}
 * inputs stored row-major (GGUF order: a row is one output's weights). Ties in a score are broken by position (the
 * earlier weight is pruned first) so masks are deterministic.
 */
public final class SparsityMasks {
    private SparsityMasks() {
    }

    /** Magnitude pruning's score (Han et al. 2015): {@code |W_ij|}. */
    public static double[] magnitudeScores(float[] w) {
        double[] s = new double[w.length];
        for (int i = 0; i < w.length; i++) s[i] = Math.abs(w[i]);
        return s;
    }

    /**
     * Wanda's score (Sun, Liu, Bair, Kolter 2023, "A Simple and Effective Pruning Approach for Large Language Models",
     * eq. 1): {@code S_ij = |W_ij| * ||X_j||_2}, the input column's L2 norm over the calibration tokens, here the square
     * root of {@code columnSumSq[j] = sum_t x_tj^2} ({@link ai.autoglm.compress.calib.ActivationStatistics}).
     */
    public static double[] wandaScores(float[] w, int rows, int cols, double[] columnSumSq) {
        check(w, rows, cols);
        if (columnSumSq.length != cols) {
            throw new IllegalArgumentException("activation statistics have " + columnSumSq.length + " columns, the matrix " + cols);
        }
        double[] s = new double[w.length];
        for (int j = 0; j < cols; j++) {
            double norm = Math.sqrt(columnSumSq[j]);
            for (int r = 0; r < rows; r++) s[r * cols + j] = Math.abs(w[r * cols + j]) * norm;
        }
        return s;
    }

    /** Keeps all but the {@code round(sparsity * n)} lowest scores of the whole matrix (layer-wise magnitude pruning). */
    public static boolean[] perMatrix(double[] scores, double sparsity) {
        checkSparsity(sparsity);
        boolean[] keep = new boolean[scores.length];
        Arrays.fill(keep, true);
        pruneLowest(scores, 0, scores.length, (int) Math.round(sparsity * scores.length), keep);
        return keep;
    }

    /**
     * Keeps all but the {@code round(sparsity * cols)} lowest scores of every row: Wanda compares weights per output
     * (its §3, "comparison group"), which the paper finds essential for LLMs.
     */
    public static boolean[] perRow(double[] scores, int rows, int cols, double sparsity) {
        checkSparsity(sparsity);
        if ((long) rows * cols != scores.length) throw new IllegalArgumentException("scores are not " + rows + " x " + cols);
        boolean[] keep = new boolean[scores.length];
        Arrays.fill(keep, true);
        int k = (int) Math.round(sparsity * cols);
        for (int r = 0; r < rows; r++) pruneLowest(scores, r * cols, cols, k, keep);
        return keep;
    }

    /**
     * N:M semi-structured sparsity (NVIDIA Ampere's 2:4; Mishra et al. 2021): in every group of {@code m} consecutive
     * inputs of a row, keeps the {@code n} highest scores.
     */
    public static boolean[] nOfM(double[] scores, int rows, int cols, int n, int m) {
        if (n < 0 || m < 1 || n > m) throw new IllegalArgumentException("bad N:M pattern " + n + ":" + m);
        if ((long) rows * cols != scores.length) throw new IllegalArgumentException("scores are not " + rows + " x " + cols);
        if (cols % m != 0) throw new IllegalArgumentException("rows of " + cols + " inputs are not whole groups of " + m);
        boolean[] keep = new boolean[scores.length];
        Arrays.fill(keep, true);
        for (int g = 0; g < scores.length; g += m) pruneLowest(scores, g, m, m - n, keep);
        return keep;
    }

    /** Zeroes {@code w} where {@code keep} is false, in place; returns {@code w}. */
    public static float[] apply(float[] w, boolean[] keep) {
        if (w.length != keep.length) throw new IllegalArgumentException("mask of " + keep.length + " for " + w.length + " weights");
        for (int i = 0; i < w.length; i++) if (!keep[i]) w[i] = 0f;
        return w;
    }

    /** Clears {@code keep} for the {@code k} lowest of {@code scores[from, from+len)}, earlier positions first on ties. */
    private static void pruneLowest(double[] scores, int from, int len, int k, boolean[] keep) {
        if (k <= 0) return;
        if (k >= len) {
            Arrays.fill(keep, from, from + len, false);
            return;
        }
        double[] sorted = Arrays.copyOfRange(scores, from, from + len);
        Arrays.sort(sorted);
        double threshold = sorted[k - 1];
        int below = 0;
        for (int i = from; i < from + len; i++) {
            if (scores[i] < threshold) {
                keep[i] = false;
                below++;
            }
        }
        for (int i = from; i < from + len && below < k; i++) {
            if (scores[i] == threshold) {
                keep[i] = false;
                below++;
            }
        }
    }

    private static void check(float[] w, int rows, int cols) {
        if (rows < 1 || cols < 1 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException("matrix of " + w.length + " weights is not " + rows + " x " + cols);
        }
    }

    static void checkSparsity(double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
    }
}
