package ai.autoglm.cli;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.train.PretrainedWeights;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.lora.ChatDataset;
import ai.autoglm.train.lora.LoraFinetuner;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code autoglm finetune}: LoRA fine-tuning on chat data, written as a PEFT adapter. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "LoRA fine-tuning on chat-formatted JSONL ({\"messages\": [{\"role\", \"content\"}, ...]} per line): only the "
                + "LoRA matrices train, the loss counts assistant tokens only, conversations are rendered with the model's own "
                + "chat template. Writes a PEFT adapter (adapter_config.json + adapter_model.safetensors) to OUT.")
final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    @Mixin
    ModelOption modelOption;
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Chat JSONL file.")
    Path data;
    @Option(names = "--lora-r", defaultValue = "8", paramLabel = "R", description = "LoRA rank (default ${DEFAULT-VALUE}).")
    int rank;
    @Option(names = "--lora-alpha", defaultValue = "16", paramLabel = "A", description = "LoRA alpha; updates are scaled by alpha/r (default ${DEFAULT-VALUE}).")
    double alpha;
    @Option(names = "--target", defaultValue = "q,v", split = ",", paramLabel = "P",
            description = "Projections to adapt: q, k, v (qkv for fused q|k|v models), o, gate, up, down; gate and up both mean the fused "
                    + "gate|up of GLM models (default ${DEFAULT-VALUE}).")
    List<String> targets;
    @Option(names = "--steps", paramLabel = "S", defaultValue = "200", description = "Optimizer steps (default ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-3", description = "Peak learning rate (warm-up, then cosine to lr/10; default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Conversations per step (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed for A's initialisation, the held-out split and the batches (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--held-out", defaultValue = "0.1", paramLabel = "F", description = "Share of conversations held out (default ${DEFAULT-VALUE}).")
    double heldOut;
    @Option(names = "--max-length", defaultValue = "512", paramLabel = "N", description = "Longest sequence in tokens; longer conversations are cut (default ${DEFAULT-VALUE}).")
    int maxLength;
    @Parameters(paramLabel = "OUT", description = "Directory for the adapter.")
    Path out;
    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Path model = modelOption.path();
        LoraFinetuner.Options options = new LoraFinetuner.Options(rank, alpha, targets, steps, batch, lr, seed, heldOut, maxLength);
        Path modelPath = DefaultModel.orDefault(model);
        if (!Files.exists(modelPath)) throw new NoSuchFileException(modelPath.toString());
        if (!Files.isRegularFile(data)) throw new NoSuchFileException(data.toString());
        List<ChatDataset.Example> examples;
        TrainableTransformer trainable;
        try (LanguageModel lm = ModelLoader.load(modelPath)) {
            if (!(lm instanceof TransformerModel tm)) throw new ModelFormatException(modelPath, "not a decoder model");
            examples = ChatDataset.read(data, lm.tokenizer(), Prompts.chatTemplate(lm));
            trainable = PretrainedWeights.from(tm.config(), tm.weights(), modelPath);
        }
        LoraFinetuner run = LoraFinetuner.start(trainable, examples, options);
        System.err.printf("autoglm: %d conversations (%d training, %d held out), sequences of %d tokens, %,d LoRA parameters on %s%n",
                examples.size(), run.trainingExamples(), run.heldOutExamples(), run.sequenceLength(), run.parameterCount(), targets);
        double before = run.heldOutLoss();
        System.err.printf(Locale.ROOT, "autoglm: held-out loss before: %.4f nats/token%n", before);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("finetune").setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build()) {
            while (!run.done()) {
                LoraFinetuner.StepResult r = run.trainStep();
                if (!Double.isFinite(r.loss())) throw new IllegalStateException("loss became " + r.loss() + " at step " + r.step() + "; try a lower --lr");
                bar.stepTo(r.step());
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f  lr %.1e", r.loss(), r.learningRate()));
            }
        }
        double after = run.heldOutLoss();
        run.adapter(modelPath.toString()).write(out);
        System.err.printf(Locale.ROOT, "autoglm: held-out loss %.4f -> %.4f nats/token; adapter written to %s%n", before, after, out);
        System.out.printf(Locale.ROOT, "held_out_loss_before=%.6f%nheld_out_loss_after=%.6f%n", before, after);
        return 0;
    }
}
