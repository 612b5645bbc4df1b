package ai.autoglm.compress.lowrank;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.core.model.LowRankProjection;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.List;

/**
 * Replaces projections by truncated-SVD factors: {@code W (out x in) ≈ B A} with {@code A = sqrt(S_r) V_r^T}
 * ({@code r x in}) and {@code B = U_r sqrt(S_r)} ({@code out x r}), stored as {@link LowRankProjection#factorA} /
 * {@link LowRankProjection#factorB} (this project's GGUF extension; llama.cpp will not load the file). Splitting
 * {@code S} evenly keeps both factors at the same scale, which suits later quantization. By Eckart–Young the rank-r
 * truncation is the best rank-r approximation in Frobenius norm, with squared error {@code sum_{i>=r} s_i^2}.
 */
public final class LowRankFactorization {
    private LowRankFactorization() {
    }

    /** One factorised tensor: its shape, the rank chosen and the share of squared singular values kept. */
    public record Factored(String name, int rows, int cols, int rank, double energyKept) {
        /** Weights stored after / before: {@code r (rows + cols) / (rows cols)}. */
        public double sizeRatio() {
            return (double) rank * (rows + cols) / ((double) rows * cols);
        }
    }

    public record Result(GgufModel model, List<Factored> tensors) {
    }

    /** The two factors of {@code w} ({@code rows} outputs of {@code cols} inputs, row-major) at {@code rank}: {A, B}. */
    public static float[][] factor(Svd svd, int rank) {
        int rows = svd.rows(), cols = svd.cols(), k = svd.k();
        if (rank < 1 || rank > k) throw new IllegalArgumentException("rank " + rank + " is outside 1.." + k);
        float[] a = new float[rank * cols], b = new float[rows * rank];
        for (int i = 0; i < rank; i++) {
            double root = Math.sqrt(svd.s()[i]);
            for (int j = 0; j < cols; j++) a[i * cols + j] = (float) (root * svd.v()[j * k + i]);
            for (int r = 0; r < rows; r++) b[r * rank + i] = (float) (root * svd.u()[r * k + i]);
        }
        return new float[][]{a, b};
    }

    public static Result apply(GgufModel model, LowRankPlan plan) {
        WeightSource w = model.weights();
        EditedWeights out = EditedWeights.of(w);
        List<Factored> done = new ArrayList<>();
        for (String name : w.names()) {
            if (!plan.tensors().matcher(name).matches()) continue;
            if (!LowRankPlan.DEFAULT_TENSORS.matcher(name).matches()) {
                throw new IllegalArgumentException("--tensors matches " + name + ", but only block projections (" + LowRankPlan.DEFAULT_TENSORS.pattern() + ") can be factorised");
            }
            long[] shape = w.shape(name);
            int cols = Math.toIntExact(shape[0]), rows = Math.toIntExact(shape[1]);
            if (plan.rank() > Math.min(rows, cols)) {
                throw new IllegalArgumentException("--rank " + plan.rank() + " exceeds min(" + rows + ", " + cols + ") = "
                        + Math.min(rows, cols) + " of " + name);
            }
            float[] values = EditedWeights.floats(w, name);
            double[] d = new double[values.length];
            for (int i = 0; i < d.length; i++) d[i] = values[i];
            Svd svd = Svd.of(d, rows, cols);
            int rank = plan.rank() > 0 ? plan.rank() : svd.rankForEnergy(plan.energy());
            float[][] ab = factor(svd, rank);
            GgmlType type = EditedWeights.storageType(w, name);
            out.remove(name);
            out.put(LowRankProjection.factorA(name), ab[0], new long[]{cols, rank}, type);
            out.put(LowRankProjection.factorB(name), ab[1], new long[]{rank, rows}, type);
            done.add(new Factored(name, rows, cols, rank, svd.energy(rank)));
        }
        if (done.isEmpty()) throw new IllegalArgumentException("--tensors " + plan.tensors().pattern() + " matches no tensor");
        return new Result(model.derive(model.metadata(), out), done);
    }
}
