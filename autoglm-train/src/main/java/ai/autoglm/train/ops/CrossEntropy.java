package ai.autoglm.train.ops;

import ai.autoglm.core.model.Parallel;

/**
 * Mean next-token cross-entropy over the vocabulary: {@code L = 1/m sum_t (logsumexp(z_t) - z_t[y_t])} over
 * the {@code m} rows with a target ({@code y_t >= 0}). Its gradient is {@code dz_t = (softmax(z_t) - onehot(y_t)) / m}
 * (e.g. Goodfellow et al., Deep Learning, 6.2.2.3). The log-sum-exp subtracts the row maximum first.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /**
     * Returns the mean loss over rows with {@code targets[t] >= 0} and, when {@code dlogits} is not null, writes its
     * gradient there (may be the logits array itself: each row is read before it is overwritten).
     */
    public static double forwardBackward(float[] logits, int n, int vocab, int[] targets, float[] dlogits) {
        return forwardBackward(logits, n, vocab, targets, dlogits, new double[n]);
    }

    /** As {@link #forwardBackward(float[], int, int, int[], float[])} with a scratch row of {@code n} doubles. */
    public static double forwardBackward(float[] logits, int n, int vocab, int[] targets, float[] dlogits, double[] rowLoss) {
        int counted = 0;
        for (int t = 0; t < n; t++) if (targets[t] >= 0) counted++;
        if (counted == 0) throw new IllegalArgumentException("no targets");
        float invCount = 1f / counted;
        Parallel.forRange(n, vocab * 3L, (from, to) -> {
            for (int t = from; t < to; t++) {
                int off = t * vocab, y = targets[t];
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
                double sum = 0;
                for (int i = 0; i < vocab; i++) sum += Math.exp(logits[off + i] - max);
                double lse = max + Math.log(sum);
                rowLoss[t] = y >= 0 ? lse - logits[off + y] : 0;
                if (dlogits != null) {
                    for (int i = 0; i < vocab; i++) {
                        dlogits[off + i] = y < 0 ? 0f : (float) Math.exp(logits[off + i] - lse) * invCount;
                    }
                    if (y >= 0) dlogits[off + y] -= invCount;
                }
            }
        });
        double total = 0;
        for (int t = 0; t < n; t++) total += rowLoss[t];
        return total / counted;
    }
}
