package ai.autoglm.train;

/**
 * Next-token pretraining: each step draws {@code batch} random windows of the training tokens, runs forward and
 * backward, clips the global gradient norm, and takes an AdamW step at the scheduled learning rate. The whole
 * state of a run (weights, moments, step, the random generator that picks windows) is what a
 * {@link TrainingCheckpoint} stores, so a resumed run continues bit for bit as if never stopped.
 */
public final class Pretrainer {
    private final TrainableTransformer model;
    private final TokenDataset data;
    private final TrainingOptions options;
    private final AdamW optimizer;
    private final SplitMix64 dataRng;
    private final int[] inputs;
    private final int[] targets;

    /** What one step did. */
    public record StepResult(long step, double loss, double learningRate, double gradNorm, int tokens) {
    }

    /** A fresh run: weights drawn from the seed, batches from a generator derived from it. */
    public static Pretrainer start(TrainableTransformer model, TokenDataset data, TrainingOptions options) {
        SplitMix64 rng = new SplitMix64(options.seed());
        model.initialize(rng);
        return new Pretrainer(model, data, options, new SplitMix64(rng.nextLong()));
    }

    Pretrainer(TrainableTransformer model, TokenDataset data, TrainingOptions options, SplitMix64 dataRng) {
        if (options.seqLen() > model.config().contextLength()) {
            throw new IllegalArgumentException("sequence length " + options.seqLen() + " exceeds the context length " + model.config().contextLength());
        }
        if (data.train().length < options.seqLen() + 1) {
            throw new IllegalArgumentException("the training corpus has " + data.train().length + " tokens, fewer than one sequence of "
                    + (options.seqLen() + 1));
        }
        this.model = model;
        this.data = data;
        this.options = options;
        this.dataRng = dataRng;
        this.inputs = new int[options.batch() * options.seqLen()];
        this.targets = new int[options.batch() * options.seqLen()];
        this.optimizer = new AdamW(model.parameters(), options.beta1(), options.beta2(), options.adamEps(), options.weightDecay());
    }

    public TrainableTransformer model() {
        return model;
    }

    public TokenDataset data() {
        return data;
    }

    public TrainingOptions options() {
        return options;
    }

    AdamW optimizer() {
        return optimizer;
    }

    SplitMix64 dataRng() {
        return dataRng;
    }

    /** Steps taken so far. */
    public long step() {
        return optimizer.step();
    }

    public boolean done() {
        return step() >= options.steps();
    }

    /** One optimizer step. */
    public StepResult trainStep() {
        int b = options.batch(), T = options.seqLen();
        int[] train = data.train();
        for (int s = 0; s < b; s++) {
            int start = dataRng.nextInt(train.length - T);
            System.arraycopy(train, start, inputs, s * T, T);
            System.arraycopy(train, start + 1, targets, s * T, T);
        }
        long stepIndex = optimizer.step();
        double lr = options.schedule().at(stepIndex);
        model.parameters().zeroGradients();
        double loss = model.forwardBackward(inputs, targets, T);
        double norm = AdamW.clipGradientNorm(model.parameters(), options.gradClip());
        optimizer.update(model.parameters(), lr);
        return new StepResult(stepIndex + 1, loss, lr, norm, b * T);
    }

    /**
     * Mean next-token cross-entropy (nats) over consecutive windows of the held-out tokens, at most
     * {@code maxWindows} of them; NaN when the held-out part is shorter than one window.
     */
    public double heldOutLoss(int maxWindows) {
        return evaluate(model, data.heldOut(), options.seqLen(), options.batch(), maxWindows);
    }

    /** Mean cross-entropy of {@code model} over consecutive windows of {@code tokens} (see {@link #heldOutLoss}). */
    public static double evaluate(TrainableTransformer model, int[] tokens, int seqLen, int batch, int maxWindows) {
        int windows = Math.min(maxWindows, (tokens.length - 1) / seqLen);
        if (windows <= 0) return Double.NaN;
        double total = 0;
        int done = 0;
        while (done < windows) {
            int n = Math.min(batch, windows - done);
            int[] in = new int[n * seqLen], tg = new int[n * seqLen];
            for (int s = 0; s < n; s++) {
                int start = (done + s) * seqLen;
                System.arraycopy(tokens, start, in, s * seqLen, seqLen);
                System.arraycopy(tokens, start + 1, tg, s * seqLen, seqLen);
            }
            total += model.loss(in, tg, seqLen) * n;
            done += n;
        }
        return total / windows;
    }
}
