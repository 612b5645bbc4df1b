package ai.autoglm.cli;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import ai.autoglm.train.AtomicWrites;
import ai.autoglm.train.LossCurvePlot;
import ai.autoglm.train.ModelExport;
import ai.autoglm.train.Pretrainer;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingCheckpoint;
import ai.autoglm.train.TrainingCorpus;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.tokenizer.GlmTokenizerFiles;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code autoglm train}: pretrains a small decoder of a chosen architecture on text files, with checkpoints that
 * resume exactly, and writes the result as an HF directory plus GGUF that {@code autoglm run --model OUT} loads.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Pretrain a small GLM-4 or Llama model on text files (CPU, F32). Writes OUT/ as a Hugging Face model "
                + "directory (config.json, model.safetensors, tokenizer, chat template) plus OUT/model.gguf, "
                + "OUT/loss.png and OUT/checkpoint.safetensors.")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    static final String CHECKPOINT = "checkpoint.safetensors"; // not model*.safetensors: HF loaders would take it for weights
    static final String LOSS_LOG = "loss.tsv";

    @Option(names = "--arch", defaultValue = "glm4", paramLabel = "A",
            description = "Architecture by GGUF name: glm4 (GLM-4-0414 shape), chatglm (GLM-4-9B shape), llama, qwen2 (default ${DEFAULT-VALUE}).")
    String arch;
    @Option(names = "--dim", paramLabel = "D", defaultValue = "256", description = "Hidden size (default ${DEFAULT-VALUE}).") int dim;
    @Option(names = "--layers", paramLabel = "L", defaultValue = "4", description = "Blocks (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--heads", paramLabel = "H", defaultValue = "8", description = "Query heads (default ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--kv-heads", paramLabel = "K", description = "Key/value heads (default: --heads).") Integer kvHeads;
    @Option(names = "--ffn", paramLabel = "F", description = "MLP width (default: 8/3 dim rounded up to 64).") Integer ffn;
    @Option(names = {"-c", "--ctx"}, paramLabel = "C", defaultValue = "256", description = "Context length = training sequence length (default ${DEFAULT-VALUE}).") int ctx;
    @Option(names = "--rotary-fraction", paramLabel = "F",
            description = "Share of each head that rotates (default: 0.5 for GLM architectures as GLM-4's partial_rotary_factor, else 1).")
    Double rotaryFraction;
    @Option(names = "--corpus", arity = "1..*", required = true, paramLabel = "FILE",
            description = "UTF-8 text files; a line holding only %% separates documents (fortune files).")
    List<Path> corpus;
    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Use this tokenizer (tokenizer.json); default: train one on the corpus.")
    Path tokenizerDir;
    @Option(names = "--vocab", paramLabel = "N", defaultValue = "4096", description = "Vocabulary when training the tokenizer (default ${DEFAULT-VALUE}).") int vocab;
    @Option(names = "--steps", paramLabel = "S", defaultValue = "1000", description = "Optimizer steps (default ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-3", description = "Peak learning rate (warm-up, then cosine to lr/10; default ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed for the weights and the batch order (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--held-out", paramLabel = "F", defaultValue = "0.05", description = "Share of the corpus kept for the held-out perplexity (default ${DEFAULT-VALUE}).")
    double heldOut;
    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "100", description = "Steps between checkpoints (default ${DEFAULT-VALUE}).") int checkpointEvery;
    @Option(names = "--resume", paramLabel = "CKPT", description = "Continue from this checkpoint (model shape and options come from it).")
    Path resume;
    @Option(names = "--debug", description = "Print stack traces of errors.") boolean debug;
    @Parameters(index = "0", paramLabel = "OUT", description = "Output directory.") Path out;

    @Override
    public Integer call() throws IOException {
        threads.apply();
        if (resume == null) config(1); // check the shape options before spending time on the tokenizer
        Files.createDirectories(out);
        // 1. Tokenizer: given, already in OUT (a resumed run), or learned from the corpus now.
        List<String> docs = TrainingCorpus.readDocuments(corpus);
        Path tokDir = tokenizerDir != null ? tokenizerDir : out;
        if (tokenizerDir == null && (resume == null || !Files.isRegularFile(out.resolve("tokenizer.json")))) {
            System.err.printf("autoglm: training a %d-token BPE tokenizer on %d documents...%n", vocab, docs.size());
            GlmTokenizerFiles.write(TokenizerCommand.Train.train(corpus, vocab), ctx, out);
        }
        Tokenizer tokenizer = Tokenizers.fromHfDirectory(tokDir);
        int eos = tokenizer.eosId() >= 0 ? tokenizer.eosId() : tokenizer.tokenId(GlmTokenizerFiles.EOS);
        int[] tokens = TrainingCorpus.tokenize(tokenizer, docs, eos);
        TokenDataset data = TokenDataset.split(tokens, heldOut);
        System.err.printf("autoglm: %d tokens (%d training, %d held out), vocabulary %d%n",
                tokens.length, data.train().length, data.heldOut().length, tokenizer.vocabSize());

        // 2. The run: fresh or resumed.
        Pretrainer run;
        if (resume != null) {
            run = TrainingCheckpoint.resume(resume, data);
            if (run.model().config().vocabSize() < tokenizer.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer in " + tokDir + " has " + tokenizer.vocabSize() + " tokens, the checkpoint's model "
                        + run.model().config().vocabSize());
            }
            System.err.printf("autoglm: resumed %s at step %d of %d%n", resume, run.step(), run.options().steps());
        } else {
            ModelConfig config = config(tokenizer.vocabSize());
            // q/k/v split: the layout of the transformers-native classes the result is written as (GlmForCausalLM, Glm4ForCausalLM).
            run = Pretrainer.start(new TrainableTransformer(config, false), data, TrainingOptions.defaults(steps, batch, ctx, lr, seed));
        }
        ModelConfig c = run.model().config();
        System.err.printf("autoglm: %s, dim %d, %d layers, %d/%d heads, ffn %d, ctx %d, %,d parameters%n", c.architecture(), c.dim(),
                c.layers(), c.heads(), c.kvHeads(), c.ffnDim(), c.contextLength(), run.model().parameters().count());

        // 3. Train, checkpointing as we go.
        List<LossCurvePlot.Point> curve = readLossLog(run.step());
        Path ckpt = out.resolve(CHECKPOINT);
        long t0 = System.nanoTime(), tokensDone = 0;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(run.options().steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build()) {
            bar.stepTo(run.step());
            while (!run.done()) {
                Pretrainer.StepResult r = run.trainStep();
                tokensDone += r.tokens();
                curve.add(new LossCurvePlot.Point(r.step(), r.loss()));
                double seconds = (System.nanoTime() - t0) / 1e9;
                bar.stepTo(r.step());
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f  lr %.1e  %.0f tok/s", r.loss(), r.learningRate(), tokensDone / seconds));
                if (!Double.isFinite(r.loss())) throw new IllegalStateException("loss became " + r.loss() + " at step " + r.step() + "; try a lower --lr");
                if (r.step() % checkpointEvery == 0 || run.done()) {
                    TrainingCheckpoint.save(run, ckpt);
                    writeLossLog(curve);
                }
            }
        }

        // 4. Held-out perplexity, the loss plot, the model.
        double loss = run.heldOutLoss(256);
        if (Double.isNaN(loss)) {
            System.err.println("autoglm: the held-out part is shorter than one sequence; no perplexity");
        } else {
            System.err.printf(Locale.ROOT, "autoglm: held-out loss %.4f nats/token, perplexity %.2f%n", loss, Math.exp(loss));
        }
        if (!curve.isEmpty()) LossCurvePlot.write(curve, "training loss, " + c.architecture() + " dim " + c.dim() + " x " + c.layers(), out.resolve("loss.png"));
        ModelExport.writeHfDirectory(run.model(), tokDir, out);
        ModelExport.writeGguf(out, out.resolve("model.gguf"));
        System.err.printf("autoglm: wrote %s (HF directory) and %s%n", out, out.resolve("model.gguf"));
        return 0;
    }

    ModelConfig config(int vocabSize) {
        Architecture a = Architecture.byGgufName(arch);
        if (a == null) {
            throw new IllegalArgumentException("--arch " + arch + " is not supported (supported: " + Architecture.ALL.stream().map(Architecture::ggufName).toList() + ")");
        }
        if (dim <= 0 || layers <= 0 || heads <= 0 || ctx < 2) throw new IllegalArgumentException("--dim, --layers, --heads must be positive and --ctx at least 2");
        if (dim % heads != 0) throw new IllegalArgumentException("--heads " + heads + " does not divide --dim " + dim);
        int kv = kvHeads == null ? heads : kvHeads;
        if (kv <= 0 || heads % kv != 0) throw new IllegalArgumentException("--kv-heads " + kv + " must divide --heads " + heads);
        int headDim = dim / heads;
        int f = ffn != null ? ffn : (int) Math.ceil(8.0 * dim / 3 / 64) * 64;
        // GLM shapes (chatglm, glm4): rotary on half of each head and q/k/v bias, as GLM-4-9B's config
        // (partial_rotary_factor 0.5, add_qkv_bias / attention_bias true); Llama/Qwen2: full rotary, their own bias rule.
        boolean glm = a == Architecture.CHATGLM || a == Architecture.GLM4;
        double fraction = rotaryFraction != null ? rotaryFraction : (glm ? 0.5 : 1.0);
        int rotary = (int) Math.round(headDim * fraction);
        if (rotary < 2 || rotary % 2 != 0) throw new IllegalArgumentException("--rotary-fraction " + fraction + " gives " + rotary + " rotary dims of a head of " + headDim + "; need an even number >= 2");
        return new ModelConfig(a, dim, layers, heads, kv, headDim, f, vocabSize, ctx, 1e-5f, 10000.0, a.hfRope(), rotary, null,
                false, a.defaultQkvBias() || glm).validate(Path.of("--arch/--dim/..."));
    }

    private List<LossCurvePlot.Point> readLossLog(long upToStep) throws IOException {
        List<LossCurvePlot.Point> points = new ArrayList<>();
        Path log = out.resolve(LOSS_LOG);
        if (resume == null || !Files.isRegularFile(log)) return points;
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t");
            if (f.length != 2 || !f[0].matches("\\d+")) continue;
            long step = Long.parseLong(f[0]);
            if (step <= upToStep) points.add(new LossCurvePlot.Point(step, Double.parseDouble(f[1])));
        }
        return points;
    }

    private void writeLossLog(List<LossCurvePlot.Point> curve) {
        StringBuilder sb = new StringBuilder("step\tloss\n");
        for (LossCurvePlot.Point p : curve) sb.append(p.step()).append('\t').append(p.loss()).append('\n');
        AtomicWrites.writeBytes(out.resolve(LOSS_LOG), sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
