package ai.autoglm.train.distill;

import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.train.AdamW;
import ai.autoglm.train.Parameter;
import ai.autoglm.train.ParameterSet;
import ai.autoglm.train.Pretrainer;
import ai.autoglm.train.SplitMix64;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.ops.DistillationLoss;
import ai.autoglm.train.ops.HiddenStateMse;

import java.util.Arrays;
import java.util.List;

/**
 * Trains a student on a teacher's soft targets (Hinton, Vinyals &amp; Dean 2015; loss in {@link DistillationLoss}),
 * optionally matching residual streams of chosen blocks ({@link HiddenStateMse}). Each step draws {@code batch}
 * random windows of the training tokens (as {@link Pretrainer}), runs the teacher forward on them, then the student
 * forward and backward, clips the global gradient norm and takes an AdamW step.
 *
 * <p>Teacher logits come from {@link TrainableTransformer#forward}, not from the inference engine
 * ({@code LanguageModel.forward} with all logits): on the bundled model (8 x 256 tokens) it takes about half the
 * engine's time, because its matmuls tile the whole batch of rows at once where the engine runs one sequence at a
 * time, and it exposes the hidden states that layer matching needs. The price is an F32 copy of the teacher on the
 * heap; teachers of billions of parameters need the heap for it.
 *
 * <p>Hidden-state matching: when the teacher's and student's widths are equal the student's residual stream is
 * compared as it is; when they differ it goes through a learned linear map to the teacher's width (FitNets'
 * regressor), trained with the student and dropped afterwards (it is not part of the exported model).
 */
public final class Distiller {
    private final TrainableTransformer student;
    private final TrainableTransformer teacher;
    private final TokenDataset data;
    private final TrainingOptions options;
    private final DistillationOptions distill;
    private final SplitMix64 dataRng;
    private final ParameterSet trainable = new ParameterSet();
    private final AdamW optimizer;
    private final Parameter[] hiddenMaps; // per hidden pair: the map, or null when the widths are equal
    private final float[][] hiddenGrads;  // per student block: the gradient reaching its output, or null
    private final float[] mapped;
    private final int[] inputs, targets;
    private final double[] rowKl, rowCe;

    /** What one step did: the total loss and its parts (mean KL at temperature T, hard-label cross-entropy, hidden MSE). */
    public record Step(long step, double loss, double kl, double crossEntropy, double hiddenLoss, double learningRate, double gradNorm,
                       int tokens) {
    }

    /**
     * A run over {@code data}: the student keeps its current weights (draw them first for a fresh student, or load
     * them for fine-tuning against a teacher), batches are drawn from {@code dataRng}.
     */
    public Distiller(TrainableTransformer student, TrainableTransformer teacher, TokenDataset data, TrainingOptions options,
                     DistillationOptions distill, SplitMix64 dataRng) {
        ModelConfig s = student.config(), t = teacher.config();
        if (s.vocabSize() != t.vocabSize()) {
            throw new IllegalArgumentException("the student's vocabulary has " + s.vocabSize() + " tokens, the teacher's " + t.vocabSize()
                    + ": distillation compares next-token distributions token by token, so the student must use the teacher's tokenizer and vocabulary size");
        }
        int seqLen = options.seqLen();
        if (seqLen > s.contextLength() || seqLen > t.contextLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the context length of the student (" + s.contextLength()
                    + ") or the teacher (" + t.contextLength() + ")");
        }
        if (data.train().length < seqLen + 1) {
            throw new IllegalArgumentException("the training corpus has " + data.train().length + " tokens, fewer than one sequence of " + (seqLen + 1));
        }
        this.student = student;
        this.teacher = teacher;
        this.data = data;
        this.options = options;
        this.distill = distill;
        this.dataRng = dataRng;
        for (Parameter p : student.parameters().all()) trainable.add(p);
        List<DistillationOptions.LayerPair> pairs = distill.hiddenLayers();
        hiddenMaps = new Parameter[pairs.size()];
        hiddenGrads = new float[s.layers()][];
        int n = options.batch() * seqLen;
        SplitMix64 mapRng = new SplitMix64(options.seed() ^ 0x6d61707300000000L);
        for (int i = 0; i < pairs.size(); i++) {
            DistillationOptions.LayerPair pair = pairs.get(i);
            if (pair.teacher() >= t.layers()) throw new IllegalArgumentException("--hidden-layers: the teacher has blocks 0.." + (t.layers() - 1) + ", not " + pair.teacher());
            if (pair.student() >= s.layers()) throw new IllegalArgumentException("--hidden-layers: the student has blocks 0.." + (s.layers() - 1) + ", not " + pair.student());
            if (s.dim() != t.dim()) {
                // N(0, 1/ds): the map starts by keeping the scale of the student's rows (FitNets initializes its regressor randomly too)
                Parameter map = trainable.add(new Parameter("hidden_map." + pair.teacher() + "_" + pair.student() + ".weight",
                        new long[]{s.dim(), t.dim()}, true));
                float[] v = map.value();
                for (int j = 0; j < v.length; j++) v[j] = (float) (mapRng.nextGaussian() / Math.sqrt(s.dim()));
                hiddenMaps[i] = map;
            }
            if (hiddenGrads[pair.student()] == null) hiddenGrads[pair.student()] = new float[n * s.dim()];
        }
        mapped = pairs.isEmpty() || s.dim() == t.dim() ? null : new float[n * t.dim()];
        inputs = new int[n];
        targets = new int[n];
        rowKl = new double[n];
        rowCe = new double[n];
        optimizer = new AdamW(trainable, options.beta1(), options.beta2(), options.adamEps(), options.weightDecay());
    }

    /**
     * A fresh student: weights drawn from the seed, batches from a generator derived from it, exactly as
     * {@link Pretrainer#start} does, so a distilled and a from-scratch student of the same seed start equal and see
     * the same batches.
     */
    public static Distiller start(TrainableTransformer student, TrainableTransformer teacher, TokenDataset data, TrainingOptions options,
                                  DistillationOptions distill) {
        SplitMix64 rng = new SplitMix64(options.seed());
        student.initialize(rng);
        return new Distiller(student, teacher, data, options, distill, new SplitMix64(rng.nextLong()));
    }

    public TrainableTransformer student() {
        return student;
    }

    public TrainingOptions options() {
        return options;
    }

    public long step() {
        return optimizer.step();
    }

    public boolean done() {
        return step() >= options.steps();
    }

    /** One optimizer step. */
    public Step trainStep() {
        int b = options.batch(), T = options.seqLen(), n = b * T;
        int[] train = data.train();
        for (int s = 0; s < b; s++) {
            int start = dataRng.nextInt(train.length - T);
            System.arraycopy(train, start, inputs, s * T, T);
            System.arraycopy(train, start + 1, targets, s * T, T);
        }
        long stepIndex = optimizer.step();
        double lr = options.schedule().at(stepIndex);
        trainable.zeroGradients();

        float[] teacherLogits = teacher.forward(inputs, T);
        float[] logits = student.forward(inputs, T);
        DistillationLoss.Value value = DistillationLoss.forwardBackward(logits, teacherLogits, n, student.config().vocabSize(), targets,
                distill.temperature(), distill.alpha(), logits, rowKl, rowCe);
        double hidden = 0;
        List<DistillationOptions.LayerPair> pairs = distill.hiddenLayers();
        for (float[] g : hiddenGrads) if (g != null) Arrays.fill(g, 0f);
        for (int i = 0; i < pairs.size(); i++) {
            DistillationOptions.LayerPair pair = pairs.get(i);
            Parameter map = hiddenMaps[i];
            hidden += HiddenStateMse.forwardBackward(student.hiddenState(pair.student()), teacher.hiddenState(pair.teacher()), n,
                    student.config().dim(), teacher.config().dim(), map == null ? null : map.value(), map == null ? null : map.grad(),
                    distill.hiddenWeight(), mapped, hiddenGrads[pair.student()]);
        }
        student.backward(logits, pairs.isEmpty() ? null : hiddenGrads);
        double norm = AdamW.clipGradientNorm(trainable, options.gradClip());
        optimizer.update(trainable, lr);
        return new Step(stepIndex + 1, value.total() + hidden, value.kl(), value.crossEntropy(), hidden, lr, norm, n);
    }

    /**
     * Mean KL divergence (nats per token) of the student's next-token distribution from the teacher's at temperature
     * 1, over consecutive held-out windows (at most {@code maxWindows}): llama.cpp's KLD of a compressed model from its
     * base when the teacher is the base. NaN when the held-out part is shorter than one window.
     */
    public double heldOutDivergence(int maxWindows) {
        int seqLen = options.seqLen(), batch = options.batch(), vocab = student.config().vocabSize();
        int[] tokens = data.heldOut();
        int windows = Math.min(maxWindows, (tokens.length - 1) / seqLen);
        if (windows <= 0) return Double.NaN;
        double total = 0;
        for (int done = 0; done < windows; ) {
            int count = Math.min(batch, windows - done), n = count * seqLen;
            int[] in = Arrays.copyOfRange(tokens, done * seqLen, done * seqLen + n);
            int[] all = new int[n]; // every position counts
            float[] t = teacher.forward(in, seqLen), s = student.forward(in, seqLen);
            total += DistillationLoss.forwardBackward(s, t, n, vocab, all, 1, 1, null, rowKl, rowCe).kl() * count;
            done += count;
        }
        return total / windows;
    }

    /** The student's mean next-token cross-entropy over held-out windows (see {@link Pretrainer#evaluate}). */
    public double heldOutLoss(int maxWindows) {
        return Pretrainer.evaluate(student, data.heldOut(), options.seqLen(), options.batch(), maxWindows);
    }
}
