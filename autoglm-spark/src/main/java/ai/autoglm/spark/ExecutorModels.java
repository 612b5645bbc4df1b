package ai.autoglm.spark;

import ai.autoglm.core.model.encoder.BertEmbeddingModel;
import ai.autoglm.core.model.encoder.EmbeddingModels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of this JVM, loaded at most once each: every task an executor runs (its cores run several at once, and
 * every later stage) finds the same loaded model and the same scheduler, so concurrent tasks share one batch. A
 * GGUF's weights are a memory-mapped {@code MemorySegment}, so executors on one host also share the page cache.
 * Models stay loaded for the life of the executor JVM (Spark starts and ends executors; there is nothing to unload
 * between stages, and reloading per stage would cost the whole load again).
 */
public final class ExecutorModels {
    private static final Map<GeneratorKey, LoadedGenerator> GENERATORS = new ConcurrentHashMap<>();
    private static final Map<String, LoadedEmbedder> EMBEDDERS = new ConcurrentHashMap<>();
    private static final AtomicInteger GENERATOR_LOADS = new AtomicInteger();
    private static final AtomicInteger EMBEDDER_LOADS = new AtomicInteger();

    /** A generative model is shared by the tasks that ask for the same file with the same scheduler shape. */
    private record GeneratorKey(String model, int slots, int context) {
    }

    private ExecutorModels() {
    }

    /** The loaded generative model for {@code s}, loading it on the first call in this JVM. */
    public static LoadedGenerator generator(GenerationSettings s) {
        // computeIfAbsent holds the bin while loading, so two tasks starting together load the file once.
        return GENERATORS.computeIfAbsent(new GeneratorKey(s.model(), s.slots(), s.context()), k -> {
            LoadedGenerator g = LoadedGenerator.load(existing(k.model()), k.slots(), k.context());
            GENERATOR_LOADS.incrementAndGet();
            return g;
        });
    }

    /** The loaded embedding model at {@code model}, loading it on the first call in this JVM. */
    public static LoadedEmbedder embedder(String model) {
        return EMBEDDERS.computeIfAbsent(model, m -> {
            BertEmbeddingModel e = EmbeddingModels.load(existing(m), EmbeddingModels.Options.DEFAULT);
            EMBEDDER_LOADS.incrementAndGet();
            return new LoadedEmbedder(e);
        });
    }

    /** How many generative models this JVM has loaded (for tests: proves one load per executor). */
    public static int generatorLoads() {
        return GENERATOR_LOADS.get();
    }

    /** How many embedding models this JVM has loaded (for tests: proves one load per executor). */
    public static int embedderLoads() {
        return EMBEDDER_LOADS.get();
    }

    /** Closes every model of this JVM (tests, or an application that keeps its JVM after Spark stops). */
    public static synchronized void closeAll() {
        GENERATORS.values().forEach(LoadedGenerator::close);
        GENERATORS.clear();
        EMBEDDERS.values().forEach(LoadedEmbedder::close);
        EMBEDDERS.clear();
    }

    private static Path existing(String model) {
        Path p = Path.of(model);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("model file " + p.toAbsolutePath() + " does not exist or cannot be read on executor host "
                    + hostName() + ": every executor needs the model at the same path");
        }
        return p;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "(unknown)";
        }
    }
}
