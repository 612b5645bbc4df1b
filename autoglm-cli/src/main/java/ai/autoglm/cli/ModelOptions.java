package ai.autoglm.cli;

import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Which model to load, how big a context to give it and on how many threads: shared by the commands that generate. */
final class ModelOptions {
    @Mixin
    ModelOption model;

    @Mixin
    ThreadsOption threads;

    @Mixin
    KernelsOption kernels;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N",
            description = "Context length to allocate (default: the model's, at most ${DEFAULT-VALUE}).", defaultValue = "4096")
    int context;

    @Option(names = "--lora", paramLabel = "DIR",
            description = "A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) applied at load time, unmerged.")
    Path lora;

    @Mixin
    KvCacheOption kvCache;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    LanguageModel load() throws NoSuchFileException {
        threads.apply();
        kernels.apply();
        Path file = model.orDefault();
        var types = kvCache.types(); // a bad type name fails before the model is read
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
        LanguageModel m = ModelLoader.load(file, LoadOptions.defaults().withLora(lora).withKvCache(types));
        ai.autoglm.core.model.WarmUp.run(m); // the first generated tokens at the steady rate, not the JIT's cold one
        return m;
    }

    /** The context to allocate: what was asked, never more than the model was trained for. */
    int contextFor(LanguageModel m) {
        if (context < 2) throw new IllegalArgumentException("--ctx must be at least 2, got " + context);
        return Math.min(context, m.config().contextLength());
    }
}
