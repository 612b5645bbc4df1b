package ai.autoglm.server;

import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.compress.memory.MemoryBudget;
import ai.autoglm.compress.quant.InMemoryQuantizer;
import ai.autoglm.compress.quant.ServeQuantization;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.encoder.EmbeddingModels;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.server.api.ApiException;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.engine.ContinuousBatchScheduler;

import ai.autoglm.server.gateway.ModelFiles;
import ai.autoglm.server.gateway.ModelSignatures;
import ai.autoglm.server.gateway.ModelTrust;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The models a server offers, by alias: each is loaded on its first request and unloaded when it has been idle
 * for its keep-alive (checked by {@link #unloadIdle}, which the server calls periodically). Each is generative (chat
 * and completions) or an embedding model, as {@link ModelKind#detect} reads it from the file at start-up; asking one
 * for the other's work is a 400.
 */
public final class ModelRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ModelRegistry.class.getName());
    private static final int DEFAULT_CONTEXT = 4096;

    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final ModelTrust trust;

    private static final class Entry {
        final ModelSpec spec;
        final ModelKind kind;
        /** The type to quantize to at load time, or null to load the weights as stored. */
        final GgmlType quantizeTo;
        ServedModel loaded;
        /** The last signature-check failure and the files' sizes and times then: not re-hashed until they change. */
        ApiException refused;
        String refusedStat;
        /** The last load failure and the files' sizes and times then: not loaded again until they change. */
        ApiException broken;
        String brokenStat;
        ServedEmbeddingModel embedder;

        Entry(ModelSpec spec, ModelKind kind, GgmlType quantizeTo) {
            this.spec = spec;
            this.kind = kind;
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
        this.trust = new ModelTrust(config.filters().trust());
        for (ModelSpec m : config.models()) {
            if (!Files.exists(m.path())) throw new IllegalArgumentException("model '" + m.alias() + "': " + m.path() + ": no such file or directory");
            ModelKind kind = ModelKind.detect(m.path());
            entries.put(m.alias(), new Entry(m, kind, kind == ModelKind.GENERATIVE ? quantization(m) : null));
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
        Entry e = entry(alias, ModelKind.GENERATIVE);
        synchronized (e) {
            if (e.loaded == null) {
                String digest = verify(e);
                checkNotBroken(e);
                try {
                    e.loaded = load(e, digest);
                } catch (ApiException failed) {
                    throw broken(e, failed);
                }
                e.broken = null;
            }
            e.loaded.scheduler().touch();
            return e.loaded;
        }
    }

    /**
     * The embedding model named {@code alias} (the first embedding model when null), loading it if needed and held
     * until {@link ServedEmbeddingModel#release}; 404 for an unknown name, 400 for a generative model.
     */
    public ServedEmbeddingModel acquireEmbedding(String alias) {
        Entry e = entry(alias, ModelKind.EMBEDDING);
        synchronized (e) {
            if (e.embedder == null) {
                verify(e); // signed-model check, as for generative models
                checkNotBroken(e);
                try {
                    e.embedder = loadEmbedding(e.spec);
                } catch (ApiException failed) {
                    throw broken(e, failed);
                }
                e.broken = null;
            }
            e.embedder.retain();
            return e.embedder;
        }
    }

    /**
     * A model that failed to load stays failed, answering the same 503, until its files change: one log line when it
     * fails, none per request, and no load attempt per request (a load can take seconds and a lot of memory).
     */
    private static void checkNotBroken(Entry e) {
        if (e.broken != null && statOf(e.spec.path()).equals(e.brokenStat)) throw e.broken;
    }

    private static ApiException broken(Entry e, ApiException failed) {
        e.broken = failed;
        e.brokenStat = statOf(e.spec.path());
        LOG.warning("model " + e.spec.alias() + " failed: " + failed.getMessage() + "; answering 503 until its files change");
        return failed;
    }

    /** The model a request that names none gets: the first of the wanted kind (the first of all when there is none). */
    public String defaultAlias(ModelKind wanted) {
        return entries.values().stream().filter(x -> x.kind == wanted).findFirst().orElse(entries.values().iterator().next()).spec.alias();
    }

    /** The entry for a request: by alias, or the first of the wanted kind when the request names none. */
    private Entry entry(String alias, ModelKind wanted) {
        Entry e = entries.get(alias == null ? defaultAlias(wanted) : alias);
        if (e == null) throw ApiException.modelNotFound(alias);
        if (e.kind != wanted) {
            throw ApiException.invalidParam("model", wanted == ModelKind.EMBEDDING
                    ? "model `" + e.spec.alias() + "` generates text and cannot make embeddings; use /v1/chat/completions or /v1/completions, or name an embedding model"
                    : "model `" + e.spec.alias() + "` is an embedding model; use /v1/embeddings, or name a chat model");
        }
        return e;
    }

    private ServedEmbeddingModel loadEmbedding(ModelSpec spec) {
        long start = System.nanoTime();
        try {
            ServedEmbeddingModel m = new ServedEmbeddingModel(spec.alias(), EmbeddingModels.load(spec.path(), EmbeddingModels.Options.DEFAULT));
            LOG.info(() -> String.format("loaded embedding model %s from %s in %.1f s (%s)", spec.alias(), spec.path(),
                    (System.nanoTime() - start) / 1e9, m.model()));
            return m;
        } catch (RuntimeException ex) {
            LOG.log(Level.FINE, "cannot load model " + spec.alias(), ex); // the caller logs one line (broken)
            throw new ApiException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be loaded: " + ex.getMessage());
        }
    }

    /**
     * With trusted keys configured: the model's signature and files are checked before it loads (its content digest,
     * a by-product, is returned), and a refused model answers 503 naming the reason while the others keep serving.
     * Null when no keys are configured.
     */
    private String verify(Entry e) {
        if (!trust.enabled()) return null;
        String stat = statOf(e.spec.path());
        if (e.refused != null && stat.equals(e.refusedStat)) throw e.refused;
        try {
            ModelSignatures.Verified v = trust.verify(e.spec.path());
            e.refused = null;
            LOG.info(() -> "model " + e.spec.alias() + ": signature by key " + v.keyId() + " and " + v.files().size() + " file(s) verified");
            return v.contentDigest();
        } catch (IllegalArgumentException | UncheckedIOException ex) { // ModelVerificationException, or a malformed key in the manifest
            LOG.warning("model " + e.spec.alias() + " refused: " + ex.getMessage());
            // Clients get the reason with the server's directories taken out.
            Path dir = e.spec.path().toAbsolutePath().getParent();
            String reason = dir == null ? ex.getMessage() : ex.getMessage().replace(dir + java.io.File.separator, "");
            e.refused = new ApiException(503, "server_error", "model", "model_verification_failed",
                    "model `" + e.spec.alias() + "` is not served: its signature check failed: " + reason);
            e.refusedStat = stat;
            throw e.refused;
        }
    }

    /** Sizes and modification times of the model's files and manifest: only decides when to re-check a refused model. */
    private static String statOf(Path model) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Path p : ModelFiles.list(model)) sb.append(p).append(Files.size(p)).append(Files.getLastModifiedTime(p)).append('\n');
            Path manifest = ModelFiles.manifestPath(model);
            if (Files.exists(manifest)) sb.append(Files.size(manifest)).append(Files.getLastModifiedTime(manifest));
        } catch (IOException | RuntimeException ex) {
            sb.append(ex);
        }
        return sb.toString();
    }

    private ServedModel load(Entry entry, String verifiedDigest) {
        ModelSpec spec = entry.spec;
        long start = System.nanoTime();
        LanguageModel model;
        try {
            model = ModelLoader.loadWithLora(spec.path(), spec.lora(), InMemoryQuantizer.transform(entry.quantizeTo));
        } catch (RuntimeException ex) {
            LOG.log(Level.FINE, "cannot load model " + spec.alias(), ex); // the caller logs one line (broken)
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
            return new ServedModel(spec, model, scheduler, verifiedDigest);
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
                if (e.spec.keepAlive() == null) continue;
                long keep = e.spec.keepAlive().toNanos();
                if (e.loaded != null && e.loaded.scheduler().idleFor(keep)) {
                    LOG.info(() -> "unloading idle model " + e.spec.alias());
                    e.loaded.close();
                    e.loaded = null;
                }
                if (e.embedder != null && e.embedder.idleFor(keep)) {
                    LOG.info(() -> "unloading idle embedding model " + e.spec.alias());
                    e.embedder.close();
                    e.embedder = null;
                }
            }
        }
    }

    /**
     * Loads the first model (the one a request that names none gets) unless it is loaded: what readiness waits for.
     *
     * @throws ApiException (503) when it cannot be loaded or is refused
     */
    public void warmUp() {
        Entry first = entries.values().iterator().next();
        if (first.kind == ModelKind.GENERATIVE) acquire(first.spec.alias());
        else acquireEmbedding(first.spec.alias()).release();
    }

    /** Ends every running and waiting generation now with finish reason {@code shutdown} (the shutdown grace is over). */
    public void endAllGenerations() {
        for (Entry e : entries.values()) {
            synchronized (e) {
                if (e.loaded != null) e.loaded.scheduler().endAll();
            }
        }
    }

    /** Whether the model is loaded now. */
    public boolean isLoaded(String alias) {
        Entry e = entries.get(alias);
        if (e == null) return false;
        synchronized (e) {
            return e.loaded != null || e.embedder != null;
        }
    }

    @Override
    public void close() {
        for (Entry e : entries.values()) {
            synchronized (e) {
                if (e.loaded != null) e.loaded.close();
                if (e.embedder != null) e.embedder.close();
                e.loaded = null;
                e.embedder = null;
            }
        }
    }
}
