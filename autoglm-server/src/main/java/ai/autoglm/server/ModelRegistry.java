package ai.autoglm.server;

import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.compress.memory.MemoryBudget;
import ai.autoglm.compress.quant.InMemoryQuantizer;
import ai.autoglm.compress.quant.ServeQuantization;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.server.api.ApiException;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.engine.ContinuousBatchScheduler;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The models a server offers, by alias: each is loaded on its first request and unloaded when it has been idle
 * for its keep-alive (checked by {@link #unloadIdle}, which the server calls periodically).
 */
public final class ModelRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ModelRegistry.class.getName());
    private static final int DEFAULT_CONTEXT = 4096;

    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private static final class Entry {
        final ModelSpec spec;
        /** The type to quantize to at load time, or null to load the weights as stored. */
        final GgmlType quantizeTo;
        ServedModel loaded;

        Entry(ModelSpec spec, GgmlType quantizeTo) {
            this.spec = spec;
            this.quantizeTo = quantizeTo;
        }
    }

    /**
     * Checks every model path exists now, and decides each {@code quantize} setting now (for {@code auto} against the
     * memory budget), so that a typo or a model that cannot fit fails at start-up rather than on the first request.
     */
    public ModelRegistry(ServerConfig config, ServerMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        for (ModelSpec m : config.models()) {
            if (!Files.exists(m.path())) throw new IllegalArgumentException("model '" + m.alias() + "': " + m.path() + ": no such file or directory");
            entries.put(m.alias(), new Entry(m, quantization(m)));
        }
    }

    /** The load-time quantization of {@code m} (null: as stored), logged with the reason. */
    private GgmlType quantization(ModelSpec m) {
        if (m.quantize() == null) return null;
        ServeQuantization.Decision d;
        try {
            d = ServeQuantization.decide(m.quantize(), m.path(), m.context(), m.slots(),
                    () -> config.memoryBudget() != null ? config.memoryBudget() : MemoryBudget.fromMachine());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model '" + m.alias() + "': " + e.getMessage(), e);
        }
        LOG.info(() -> "model " + m.alias() + ": " + d.reason());
        return d.type();
    }

    /** The type {@code alias} is quantized to at load time, or null when it is served as stored. */
    public GgmlType quantization(String alias) {
        Entry e = entries.get(alias);
        return e == null ? null : e.quantizeTo;
    }

    public List<String> aliases() {
        return List.copyOf(entries.keySet());
    }

    /** The model named {@code alias} (the first one when null), loading it if needed; 404 for an unknown name. */
    public ServedModel acquire(String alias) {
        Entry e = alias == null ? entries.values().iterator().next() : entries.get(alias);
        if (e == null) throw ApiException.modelNotFound(alias);
        synchronized (e) {
            if (e.loaded == null) e.loaded = load(e);
            e.loaded.scheduler().touch();
            return e.loaded;
        }
    }

    private ServedModel load(Entry entry) {
        ModelSpec spec = entry.spec;
        long start = System.nanoTime();
        LanguageModel model;
        try {
            model = InMemoryQuantizer.load(spec.path(), entry.quantizeTo);
        } catch (RuntimeException ex) {
            LOG.log(Level.WARNING, "cannot load model " + spec.alias(), ex);
            throw new ApiException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be loaded: " + ex.getMessage());
        }
        try {
            int context = spec.context() != null ? spec.context() : Math.min(DEFAULT_CONTEXT, model.config().contextLength());
            if (context > model.config().contextLength()) {
                throw new IllegalArgumentException("context " + context + " exceeds the model's " + model.config().contextLength());
            }
            ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler(spec.alias(), model, spec.slots(), context,
                    config.queueSize(), config.prefillBudget(), metrics.forModel(spec.alias()));
            LOG.info(() -> String.format("loaded %s from %s%s in %.1f s (%d slots x %d positions)", spec.alias(), spec.path(),
                    entry.quantizeTo != null ? ", quantized to " + entry.quantizeTo + " in memory" : "",
                    (System.nanoTime() - start) / 1e9, spec.slots(), context));
            return new ServedModel(spec, model, scheduler);
        } catch (RuntimeException ex) {
            model.close();
            throw new ApiException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be started: " + ex.getMessage());
        }
    }

    /** Unloads every loaded model that has had nothing to do for its keep-alive. */
    public void unloadIdle() {
        for (Entry e : entries.values()) {
            synchronized (e) {
                if (e.loaded == null || e.spec.keepAlive() == null) continue;
                if (e.loaded.scheduler().idleFor(e.spec.keepAlive().toNanos())) {
                    LOG.info(() -> "unloading idle model " + e.spec.alias());
                    e.loaded.close();
                    e.loaded = null;
                }
            }
        }
    }

    /** Whether the model is loaded now. */
    public boolean isLoaded(String alias) {
        Entry e = entries.get(alias);
        if (e == null) return false;
        synchronized (e) {
            return e.loaded != null;
        }
    }

    @Override
    public void close() {
        for (Entry e : entries.values()) {
            synchronized (e) {
                if (e.loaded != null) e.loaded.close();
                e.loaded = null;
            }
        }
    }
}
