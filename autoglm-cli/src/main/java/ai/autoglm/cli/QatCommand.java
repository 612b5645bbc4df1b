package ai.autoglm.cli;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.train.PretrainedWeights;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingCorpus;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.distill.Distiller;
import ai.autoglm.train.qat.QuantizationAwareTraining;
import ai.autoglm.train.qat.QuantizedGgufExport;
import ai.autoglm.train.qat.TensorTypeRule;
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
 * {@code autoglm qat}: quantization-aware fine-tuning ({@link QuantizationAwareTraining}) of a model towards its own
 * full-precision outputs, then the quantized GGUF. Reports the held-out KL divergence from the base before (what
 * post-training quantization gives) and after.
 */
@Command(name = "qat", mixinStandardHelpOptions = true,
        description = "Quantization-aware training: fine-tune a model with Q4_0/Q4_K fake quantization in the forward pass "
                + "(straight-through gradients to F32 master weights), distilling from the unquantized model, and write the quantized GGUF.")
final class QatCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    @Mixin
    ModelOption modelOption;
    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Target type: q4_0 or q4_k.")
    String type;
    @Option(names = "--data", arity = "1..*", required = true, paramLabel = "FILE",
            description = "UTF-8 text files; a line holding only %% separates documents (fortune files).")
    List<Path> data;
    @Option(names = "--steps", paramLabel = "S", defaultValue = "200", description = "Optimizer steps (default ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = {"-c", "--ctx"}, paramLabel = "C", description = "Training sequence length (default: min(256, the model's context)).") Integer ctx;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "2e-4", description = "Peak learning rate (warm-up, then cosine to lr/10; default ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--alpha", paramLabel = "X", defaultValue = "1", description = "Weight of the KL term towards the unquantized model; 1 - alpha weights the text's cross-entropy (default ${DEFAULT-VALUE}).")
    double alpha;
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1", description = "Softmax temperature of the KL term (default ${DEFAULT-VALUE}).") double temperature;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the batch order (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--held-out", paramLabel = "F", defaultValue = "0.05", description = "Share of the text kept for the held-out KLD (default ${DEFAULT-VALUE}).")
    double heldOut;
    @Option(names = "--debug", description = "Print stack traces of errors.") boolean debug;
    @Parameters(index = "0", paramLabel = "OUT", description = "Output GGUF file.") Path out;

    @Override
    public Integer call() throws IOException {
        threads.apply();
        Path model = modelOption.path();
        if (model == null) throw new IllegalArgumentException("--model is required: the model to quantize (F32/F16/BF16)");
        QuantPreset target = switch (type.toLowerCase(Locale.ROOT)) {
            case "q4_0" -> QuantPreset.Q4_0;
            case "q4_k" -> QuantPreset.Q4_K_M; // llama-quantize's alias, as `autoglm quantize --type q4_k`
            default -> throw new IllegalArgumentException("--type " + type + " is not supported (q4_0, q4_k)");
        };
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // The export copies the metadata of a GGUF and writes tensors under GGUF names and layouts: a Hugging Face
        // directory is converted first (as `autoglm convert` would, F32), into a temporary file removed at the end.
        Path source = model, converted = null;
        if (Files.isDirectory(model)) {
            converted = Files.createTempFile(parent, ".qat-source-", ".gguf");
            HfToGgufConverter.convert(model, converted, GgmlType.F32);
            source = converted;
        }
        try {
            return run(source, target);
        } finally {
            if (converted != null) Files.deleteIfExists(converted);
        }
    }

    private int run(Path source, QuantPreset target) {
        System.err.printf("autoglm: loading %s...%n", modelOption.path());
        TrainableTransformer base = PretrainedWeights.load(source), student = PretrainedWeights.load(source);
        Tokenizer tokenizer;
        try (LanguageModel lm = ModelLoader.load(source)) {
            tokenizer = lm.tokenizer();
        }
        int seqLen = ctx != null ? ctx : Math.min(256, base.config().contextLength());
        int[] tokens = TrainingCorpus.tokenize(tokenizer, TrainingCorpus.readDocuments(data), tokenizer.eosId());
        TokenDataset dataset = TokenDataset.split(tokens, heldOut);
        System.err.printf("autoglm: %d tokens (%d training, %d held out)%n", tokens.length, dataset.train().length, dataset.heldOut().length);

        TensorTypeRule rule = TensorTypeRule.llamaQuantize(source, target);
        Distiller run = QuantizationAwareTraining.start(base, student, rule, dataset, TrainingOptions.defaults(steps, batch, seqLen, lr, seed),
                temperature, alpha);
        double before = run.heldOutDivergence(64);
        System.err.printf(Locale.ROOT, "autoglm: held-out KLD from the base, post-training %s: %.5f%n", target, before);
        TrainingProgress progress = new TrainingProgress("qat", steps);
        try (progress) {
            while (!run.done()) {
                Distiller.Step r = run.trainStep();
                progress.step(r.step(), r.loss(), r.learningRate(), r.tokens(), "");
            }
        }
        double after = run.heldOutDivergence(64);
        System.err.printf(Locale.ROOT, "autoglm: held-out KLD from the base, after QAT: %.5f (post-training %.5f)%n", after, before);
        String stem = out.getFileName().toString().replaceFirst("\\.gguf$", "");
        progress.writeCurve(out.resolveSibling(stem + ".loss.tsv"), out.resolveSibling(stem + ".loss.png"), "QAT loss (KL to base), " + target);
        QuantizedGgufExport.write(student, source, rule, target.fileType, out);
        System.err.printf("autoglm: wrote %s%n", out);
        return 0;
    }
}
