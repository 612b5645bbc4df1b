package ai.autoglm.cli;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import ai.autoglm.train.ModelExport;
import ai.autoglm.train.PretrainedWeights;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingCorpus;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.distill.DistillationOptions;
import ai.autoglm.train.distill.Distiller;
import ai.autoglm.train.tokenizer.GgufTokenizerExport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code autoglm distill}: trains a smaller student of the teacher's architecture family and vocabulary on the
 * teacher's soft targets ({@link Distiller}) and writes it as {@code train} writes its models.
 */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = "Distil a model into a smaller one of the same architecture and tokenizer (Hinton et al. 2015: "
                + "alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * cross-entropy). Writes OUT/ as a Hugging Face "
                + "directory plus OUT/model.gguf and OUT/loss.png.")
final class DistillCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    @Option(names = "--teacher", required = true, paramLabel = "T", description = "Teacher model: GGUF file or Hugging Face directory.")
    Path teacherPath;
    @Option(names = "--student-config", paramLabel = "FILE", description = "Student shape as a Hugging Face config.json (instead of --dim ...).")
    Path studentConfig;
    @Option(names = "--dim", paramLabel = "D", description = "Student hidden size.") Integer dim;
    @Option(names = "--layers", paramLabel = "L", description = "Student blocks.") Integer layers;
    @Option(names = "--heads", paramLabel = "H", description = "Student query heads (default: dim / the teacher's head size).") Integer heads;
    @Option(names = "--kv-heads", paramLabel = "K", description = "Student key/value heads (default: the teacher's query/kv ratio).") Integer kvHeads;
    @Option(names = "--ffn", paramLabel = "F", description = "Student MLP width (default: 8/3 dim rounded up to 64).") Integer ffn;
    @Option(names = "--data", arity = "1..*", required = true, paramLabel = "FILE",
            description = "UTF-8 text files; a line holding only %% separates documents (fortune files).")
    List<Path> data;
    @Option(names = "--tokenizer", paramLabel = "DIR", description = "The teacher's tokenizer directory (default: the teacher's own files).")
    Path tokenizerDir;
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "2", description = "Softmax temperature T of the soft targets (default ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--alpha", paramLabel = "X", defaultValue = "0.5", description = "Weight of the soft-target term; 1 - alpha weights the hard labels (default ${DEFAULT-VALUE}).")
    double alpha;
    @Option(names = "--hidden-layers", paramLabel = "T:S,...",
            description = "Also match the residual stream after teacher block T to student block S (0-based), through a learned map when widths differ.")
    String hiddenLayers;
    @Option(names = "--hidden-weight", paramLabel = "X", defaultValue = "1", description = "Weight of each hidden-state MSE (default ${DEFAULT-VALUE}).")
    double hiddenWeight;
    @Option(names = "--steps", paramLabel = "S", defaultValue = "1000", description = "Optimizer steps (default ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = {"-c", "--ctx"}, paramLabel = "C", description = "Training sequence length (default: min(256, the teacher's context)).") Integer ctx;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-3", description = "Peak learning rate (warm-up, then cosine to lr/10; default ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed for the student's weights and the batch order (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--held-out", paramLabel = "F", defaultValue = "0.05", description = "Share of the text kept for the held-out perplexity (default ${DEFAULT-VALUE}).")
    double heldOut;
    @Option(names = "--debug", description = "Print stack traces of errors.") boolean debug;
    @Parameters(index = "0", paramLabel = "OUT", description = "Output directory.") Path out;

    @Override
    public Integer call() throws IOException {
        threads.apply();
        DistillationOptions distill = new DistillationOptions(temperature, alpha, DistillationOptions.parseLayerPairs(hiddenLayers), hiddenWeight);
        System.err.printf("autoglm: loading the teacher %s...%n", teacherPath);
        TrainableTransformer teacher = PretrainedWeights.load(teacherPath);
        ModelConfig t = teacher.config();
        ModelConfig s = studentConfig(t);
        int seqLen = ctx != null ? ctx : Math.min(256, t.contextLength());
        Files.createDirectories(out);

        // The teacher's tokenizer: it defines the vocabulary both models share.
        Path tokDir = tokenizerDir != null ? tokenizerDir : Files.isDirectory(teacherPath) ? teacherPath : out;
        if (tokenizerDir == null && !Files.isDirectory(teacherPath)) GgufTokenizerExport.write(teacherPath, s.contextLength(), out);
        Tokenizer tokenizer = Tokenizers.fromHfDirectory(tokDir);
        if (tokenizer.vocabSize() > t.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer in " + tokDir + " has " + tokenizer.vocabSize() + " tokens, the teacher's vocabulary " + t.vocabSize());
        }
        List<String> docs = TrainingCorpus.readDocuments(data);
        int[] tokens = TrainingCorpus.tokenize(tokenizer, docs, tokenizer.eosId());
        TokenDataset dataset = TokenDataset.split(tokens, heldOut);
        System.err.printf("autoglm: %d tokens (%d training, %d held out)%n", tokens.length, dataset.train().length, dataset.heldOut().length);

        Distiller run = Distiller.start(new TrainableTransformer(s, false), teacher, dataset, TrainingOptions.defaults(steps, batch, seqLen, lr, seed), distill);
        System.err.printf("autoglm: teacher %s dim %d x %d layers (%,d parameters) -> student dim %d x %d layers, %d/%d heads, ffn %d (%,d parameters)%n",
                t.architecture(), t.dim(), t.layers(), teacher.parameters().count(), s.dim(), s.layers(), s.heads(), s.kvHeads(), s.ffnDim(),
                run.student().parameters().count());
        TrainingProgress progress = new TrainingProgress("distill", steps);
        try (progress) {
            while (!run.done()) {
                Distiller.Step r = run.trainStep();
                progress.step(r.step(), r.loss(), r.learningRate(), r.tokens(),
                        String.format(Locale.ROOT, " (kl %.3f ce %.3f%s)", r.kl(), r.crossEntropy(),
                                distill.hiddenLayers().isEmpty() ? "" : String.format(Locale.ROOT, " hidden %.3f", r.hiddenLoss())));
            }
        }

        double loss = run.heldOutLoss(256);
        if (Double.isNaN(loss)) {
            System.err.println("autoglm: the held-out part is shorter than one sequence; no perplexity");
        } else {
            double teacherLoss = ai.autoglm.train.Pretrainer.evaluate(teacher, dataset.heldOut(), seqLen, batch, 256);
            System.err.printf(Locale.ROOT, "autoglm: held-out perplexity: student %.2f (loss %.4f), teacher %.2f (loss %.4f)%n",
                    Math.exp(loss), loss, Math.exp(teacherLoss), teacherLoss);
        }
        progress.writeCurve(out.resolve(TrainCommand.LOSS_LOG), out.resolve("loss.png"),
                "distillation loss, " + s.architecture() + " dim " + s.dim() + " x " + s.layers() + " (T " + temperature + ", alpha " + alpha + ")");
        ModelExport.writeHfDirectory(run.student(), tokDir, out);
        ModelExport.writeGguf(out, out.resolve("model.gguf"));
        System.err.printf("autoglm: wrote %s (HF directory) and %s%n", out, out.resolve("model.gguf"));
        return 0;
    }

    /**
     * The student: the teacher's architecture, vocabulary, context, norm epsilon, rope base, share of each head that
     * rotates, bias and tying rules, with its own sizes (flags or a config.json of the same architecture family).
     */
    ModelConfig studentConfig(ModelConfig t) throws IOException {
        Architecture arch = t.architecture();
        if (studentConfig != null) {
            if (dim != null || layers != null || heads != null || kvHeads != null || ffn != null) {
                throw new IllegalArgumentException("give the student's shape either as --student-config or as --dim/--layers/..., not both");
            }
            JsonNode json;
            try {
                json = new ObjectMapper().readTree(studentConfig.toFile());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ModelFormatException(studentConfig, "not JSON: " + e.getOriginalMessage());
            }
            ModelConfig c = ModelConfig.fromHfConfig(studentConfig, json);
            if (c.architecture() != arch) {
                throw new IllegalArgumentException("--student-config " + studentConfig + " is " + c.architecture() + ", the teacher " + arch
                        + ": the student must be of the teacher's architecture family");
            }
            if (c.vocabSize() != t.vocabSize()) {
                throw new IllegalArgumentException("--student-config " + studentConfig + " has vocab_size " + c.vocabSize() + ", the teacher "
                        + t.vocabSize() + ": distillation needs the teacher's tokenizer and vocabulary");
            }
            return new ModelConfig(arch, c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.vocabSize(), c.contextLength(),
                    c.rmsEps(), c.ropeTheta(), arch.hfRope(), c.rotaryDim(), null, c.tiedEmbeddings(), c.qkvBias()).validate(studentConfig);
        }
        if (dim == null || layers == null) throw new IllegalArgumentException("give the student's shape: --dim and --layers (or --student-config)");
        if (dim <= 0 || layers <= 0) throw new IllegalArgumentException("--dim and --layers must be positive");
        int h = heads != null ? heads : Math.max(1, dim / t.headDim());
        if (h <= 0 || dim % h != 0) throw new IllegalArgumentException("--heads " + h + " does not divide --dim " + dim);
        int ratio = t.heads() / t.kvHeads();
        int kv = kvHeads != null ? kvHeads : (h % ratio == 0 ? h / ratio : h);
        if (kv <= 0 || h % kv != 0) throw new IllegalArgumentException("--kv-heads " + kv + " must divide --heads " + h);
        int headDim = dim / h;
        int rotary = (int) Math.round((double) headDim * t.rotaryDim() / t.headDim());
        rotary = Math.max(2, rotary - rotary % 2);
        int f = ffn != null ? ffn : (int) Math.ceil(8.0 * dim / 3 / 64) * 64;
        return new ModelConfig(arch, dim, layers, h, kv, headDim, f, t.vocabSize(), t.contextLength(), t.rmsEps(), t.ropeTheta(), arch.hfRope(),
                rotary, null, t.tiedEmbeddings(), t.qkvBias()).validate(Path.of("--dim/--layers/..."));
    }
}
