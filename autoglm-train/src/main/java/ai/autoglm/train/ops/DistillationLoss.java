package ai.autoglm.train.ops;

import ai.autoglm.core.model.Parallel;

/**
 * Knowledge-distillation loss of Hinton, Vinyals &amp; Dean 2015 ("Distilling the Knowledge in a Neural Network",
 * section 2) over rows of logits, each row counted when it has a hard target ({@code y_t >= 0}, m rows):
 * <pre>
 *   L = alpha * T^2 * 1/m sum_t KL(p_t || q_t) + (1 - alpha) * 1/m sum_t (logsumexp(z_t) - z_t[y_t])
 *   p_t = softmax(teacher_t / T),  q_t = softmax(z_t / T)
 * </pre>
 * The {@code T^2} keeps the soft-target gradients at the scale of the hard-label ones when T changes (the paper's
 * remark after eq. 2). Gradient with respect to the student logits {@code z}:
 * {@code dz_t = alpha * T * (q_t - p_t) / m + (1 - alpha) * (softmax(z_t) - onehot(y_t)) / m}
 * (d KL / d z = (q - p) / T, the cross-entropy gradient as in {@link CrossEntropy}). Sums run in double, each
 * softmax subtracts its row maximum first.
 */
public final class DistillationLoss {
    private DistillationLoss() {
    }

    /** The loss and its two parts (mean KL without the {@code T^2 alpha} factor, mean cross-entropy). */
    public record Value(double total, double kl, double crossEntropy) {
    }

    /**
     * Computes the loss and, when {@code dlogits} is not null, writes its gradient there (may be {@code student}
     * itself: each row is read before it is overwritten). {@code rowKl} and {@code rowCe} are scratch rows of
     * {@code n} doubles.
     */
    public static Value forwardBackward(float[] student, float[] teacher, int n, int vocab, int[] targets, double temperature,
                                        double alpha, float[] dlogits, double[] rowKl, double[] rowCe) {
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        int counted = 0;
        for (int t = 0; t < n; t++) if (targets[t] >= 0) counted++;
        if (counted == 0) throw new IllegalArgumentException("no targets");
        double invT = 1 / temperature, invM = 1.0 / counted;
        double softScale = alpha * temperature * invM, hardScale = (1 - alpha) * invM;
        Parallel.forRange(n, vocab * 8L, (from, to) -> {
            for (int t = from; t < to; t++) {
                int off = t * vocab, y = targets[t];
                if (y < 0) {
                    rowKl[t] = 0;
                    rowCe[t] = 0;
                    if (dlogits != null) java.util.Arrays.fill(dlogits, off, off + vocab, 0f);
                    continue;
                }
                double zMax = Double.NEGATIVE_INFINITY, tMax = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) {
                    zMax = Math.max(zMax, student[off + i]);
                    tMax = Math.max(tMax, teacher[off + i]);
                }
                double sumZ = 0, sumQ = 0, sumP = 0;
                for (int i = 0; i < vocab; i++) {
                    sumZ += Math.exp(student[off + i] - zMax);
                    sumQ += Math.exp((student[off + i] - zMax) * invT);
                    sumP += Math.exp((teacher[off + i] - tMax) * invT);
                }
                double lse = zMax + Math.log(sumZ);               // logsumexp(z)
                double lseQ = Math.log(sumQ), lseP = Math.log(sumP); // of the shifted, scaled rows
                double kl = 0;
                rowCe[t] = lse - student[off + y];
                for (int i = 0; i < vocab; i++) {
                    double logP = (teacher[off + i] - tMax) * invT - lseP;
                    double logQ = (student[off + i] - zMax) * invT - lseQ;
                    double p = Math.exp(logP);
                    if (p > 0) kl += p * (logP - logQ);
                    if (dlogits != null) {
                        double soft = Math.exp(logQ) - p;
                        double hard = Math.exp(student[off + i] - lse) - (i == y ? 1 : 0);
                        dlogits[off + i] = (float) (softScale * soft + hardScale * hard);
                    }
                }
                rowKl[t] = kl;
            }
        });
        double kl = 0, ce = 0;
        for (int t = 0; t < n; t++) {
            kl += rowKl[t];
            ce += rowCe[t];
        }
        kl *= invM;
        ce *= invM;
        return new Value(alpha * temperature * temperature * kl + (1 - alpha) * ce, kl, ce);
    }
}
