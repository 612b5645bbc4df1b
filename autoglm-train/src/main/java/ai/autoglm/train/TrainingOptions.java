package ai.autoglm.train;

/**
 * Hyper-parameters of a pretraining run.
 *
 * @param steps       optimizer steps in the whole run (the cosine schedule ends there)
 * @param batch       sequences per step
 * @param seqLen      tokens per sequence (at most the model's context length)
 * @param maxLr       peak learning rate, after warm-up
 * @param minLr       learning rate at the end of the cosine decay
 * @param warmupSteps linear warm-up steps
 * @param weightDecay AdamW decoupled decay of the projection matrices
 * @param beta1       AdamW first-moment decay
 * @param beta2       AdamW second-moment decay (0.95 as in GPT-3/Llama pretraining)
 * @param adamEps     AdamW epsilon
 * @param gradClip    global gradient-norm clip (0 = none)
 * @param seed        seeds the initial weights and the order batches are drawn in
 */
public record TrainingOptions(int steps, int batch, int seqLen, double maxLr, double minLr, int warmupSteps,
                              double weightDecay, double beta1, double beta2, double adamEps, double gradClip, long seed) {

    public TrainingOptions {
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        if (seqLen < 2) throw new IllegalArgumentException("sequence length must be at least 2, got " + seqLen);
        if (!(maxLr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + maxLr);
    }

    /** The usual recipe around a step count, batch, sequence length, peak rate and seed. */
    public static TrainingOptions defaults(int steps, int batch, int seqLen, double lr, long seed) {
        int warmup = Math.max(1, Math.min(100, steps / 10));
        return new TrainingOptions(steps, batch, seqLen, lr, lr / 10, warmup, 0.1, 0.9, 0.95, 1e-8, 1.0, seed);
    }

    public LearningRateSchedule schedule() {
        return new LearningRateSchedule(maxLr, minLr, warmupSteps, steps);
    }
}
