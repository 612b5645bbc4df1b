package ai.autoglm.train;

/**
 * Linear warm-up then cosine decay to a floor (Loshchilov &amp; Hutter 2017, SGDR, without restarts; the
 * schedule of nanoGPT's {@code get_lr} and most LLM pretraining recipes):
 * {@code lr(s) = max * (s+1)/warmup} for {@code s < warmup}, then
 * {@code min + (max - min) * (1 + cos(pi * progress)) / 2} with progress going 0 to 1 over the remaining steps.
 */
public record LearningRateSchedule(double maxLr, double minLr, int warmupSteps, int totalSteps) {

    public LearningRateSchedule {
        if (!(maxLr > 0) || minLr < 0 || minLr > maxLr) throw new IllegalArgumentException("learning rates must satisfy 0 <= min <= max, max > 0");
        if (warmupSteps < 0 || totalSteps <= 0) throw new IllegalArgumentException("steps must be positive");
    }

    /** The learning rate of step {@code step} (0-based). */
    public double at(long step) {
        if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return minLr + (maxLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
