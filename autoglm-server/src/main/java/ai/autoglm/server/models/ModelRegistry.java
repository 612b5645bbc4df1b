package ai.autoglm.server.models;

import ai.autoglm.server.metrics.ServerMetrics;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.ServeSlots;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.quant.WeightTypeRule;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.quant.InMemoryQuantizer;
import ai.autoglm.core.quant.ServeQuantization;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.encoder.EmbeddingModels;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.server.gateway.GatewayException;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.core.schedule.ContinuousBatchScheduler;

import ai.autoglm.server.security.ModelFiles;
import ai.autoglm.server.security.ModelSignatures;
import ai.autoglm.server.gateway.ModelTrust;
import ai.autoglm.server.security.ManifestCheck;
import ai.autoglm.server.security.ModelVerificationException;
import ai.autoglm.core.format.LoadedFiles;

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
    /** Test seam: runs between a signed model's manifest check and its load (the check-then-use window). */
    private volatile java.util.function.Consumer<String> afterVerification = alias -> { };

    private static final class Entry {
        final ModelSpec spec;
        final ModelKind kind;
        /** The type to quantize to at load time, or null to load the weights as stored. */
        final GgmlType quantizeTo;
        ServedModel loaded;
        /** The last signature-check failure and the files' sizes and times then: not re-hashed until they change. */
        GatewayException refused;
        String refusedStat;
        /** The last load failure and the files' sizes and times then: not loaded again until they change. */
        GatewayException broken;
        String brokenStat;
        ServedEmbeddingModel embedder;
        /** How long it stays loaded unused (null: until the server stops); the admin API may change it. */
        java.time.Duration keepAlive;
        /** The memory model's estimate of serving it (computed on first ask; the file is only mapped). */
        ai.autoglm.core.memory.MemoryEstimate estimate;
        /** Its configuration and stored tensors, read once (at start-up when quantization or automatic slots need them). */
        StoredShape shape;

        Entry(ModelSpec spec, ModelKind kind, GgmlType quantizeTo) {
            this.spec = spec;
            this.kind = kind;
            this.quantizeTo = quantizeTo;
            this.keepAlive = spec.keepAlive();
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
            if (kind != ModelKind.GENERATIVE) {
                entries.put(m.alias(), new Entry(m, kind, null));
                continue;
            }
            // The file is opened once here for its shape, which the quantization, the slots and the memory estimate share.
            StoredShape shape = null;
            RuntimeException unreadable = null;
            if (m.quantize() != null || m.slots() == ModelSpec.AUTO_SLOTS) {
                try {
                    shape = StoredShape.read(m.path());
                } catch (RuntimeException ex) {
                    unreadable = ex;
                }
            }
            GgmlType q = quantization(m, shape, unreadable);
            Entry e = new Entry(slots(m, q, shape, unreadable), kind, q);
            e.shape = shape;
            entries.put(m.alias(), e);
        }
    }

    /**
     * What the quantization, slots and memory estimate read of a model file: its configuration and stored tensors, from
     * one memory-mapped open (no weight page is read).
     */
    private record StoredShape(ModelConfig config, List<TensorSpec> tensors) {
        static StoredShape read(Path path) {
            try (LanguageModel lm = ModelLoader.load(path)) {
                if (!(lm instanceof TransformerModel tm)) throw new IllegalStateException("not a transformer model: " + path);
                return new StoredShape(lm.config(), TensorSpec.of(tm.weights()));
            }
        }

        /** The tensors as served: quantized to {@code to} at load time, or as stored when null. */
        List<TensorSpec> served(GgmlType to) {
            return to == null ? tensors : WeightTypeRule.apply(config, tensors, to);
        }

        int context(Integer asked) {
            return asked != null ? asked : Math.min(DEFAULT_CONTEXT, config.contextLength());
        }
    }

    /** The load-time quantization of {@code m} (null: as stored), logged with the reason. */
    private GgmlType quantization(ModelSpec m, StoredShape shape, RuntimeException unreadable) {
        if (m.quantize() == null) return null;
        if (unreadable != null) throw unreadable; // quantizing needs the shape: the model cannot be served as asked
        ServeQuantization.Decision d;
        try {
            // With automatic slots the type is chosen for one slot (quality first), then the slots for that type.
            d = ServeQuantization.decide(m.quantize(), shape.config(), shape.tensors(), shape.context(m.context()), Math.max(1, m.slots()),
                    () -> config.memoryBudget() != null ? config.memoryBudget() : MemoryBudget.fromMachine(), m.kvCache(),
                    ai.autoglm.core.memory.ProcessKind.SERVER);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model '" + m.alias() + "': " + e.getMessage(), e);
        }
        LOG.info(() -> "model " + m.alias() + ": " + d.reason());
        return d.type();
    }

    /**
     * {@code m} with its slots (and, when not given, context per slot) chosen from the cores and the memory budget
     * when it asks for automatic slots ({@link ServeSlots}), logged with the numbers; as it is otherwise.
     */
    private ModelSpec slots(ModelSpec m, GgmlType quantizeTo, StoredShape shape, RuntimeException unreadable) {
        if (m.slots() != ModelSpec.AUTO_SLOTS) return m;
        int cores = ComputeThreads.count();
        ServeSlots.Choice c;
        try {
            if (unreadable != null) throw unreadable;
            MemoryBudget budget = config.memoryBudget() != null ? config.memoryBudget() : MemoryBudget.fromMachine();
            c = ServeSlots.decide(shape.config(), shape.served(quantizeTo), ModelSpec.AUTO_SLOTS, m.context(), cores, budget, m.kvCache());
        } catch (RuntimeException ex) {
            // The load will say what is wrong with the model; size it by the cores meanwhile.
            int n = Math.clamp(cores, ServeSlots.MIN_AUTO_SLOTS, ServeSlots.MAX_AUTO_SLOTS);
            LOG.warning("model " + m.alias() + ": cannot read its shape to size the KV cache (" + ex.getMessage() + "): " + n + " slots by the cores");
            return m.withSlots(n, m.context());
        }
        LOG.info("model " + m.alias() + ": " + c.reason());
        return m.withSlots(c.slots(), c.context());
    }

    /** The slots {@code alias} runs (chosen at start-up when automatic), or 0 for an unknown or embedding model. */
    public int slots(String alias) {
        Entry e = entries.get(alias);
        return e == null || e.kind != ModelKind.GENERATIVE ? 0 : e.spec.slots();
    }

    /** The KV positions per slot of {@code alias}, or null when decided at load (min(4096, the model's)). */
    public Integer context(String alias) {
        Entry e = entries.get(alias);
        return e == null ? null : e.spec.context();
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
                ManifestCheck check = verify(e);
                checkNotBroken(e);
                try {
                    e.loaded = load(e, check);
                } catch (GatewayException failed) {
                    throw broken(e, failed);
                }
                e.broken = null;
            }
            e.loaded.scheduler().touch();
            return e.loaded;
        }
    }

    /**
     * Loads {@code alias} now instead of on its first request (and verifies it, with trusted keys): for the one model
     * a command line names, where a broken file should stop the start, not answer 503 to every request.
     *
     * @throws GatewayException 503 with the loader's (or the signature check's) message
     */
    public void preload(String alias) {
        Entry e = entries.get(alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        if (e.kind == ModelKind.EMBEDDING) acquireEmbedding(alias).release();
        else acquire(alias);
    }

    /**
     * The embedding model named {@code alias} (the first embedding model when null), loading it if needed and held
     * until {@link ServedEmbeddingModel#release}; 404 for an unknown name, 400 for a generative model.
     */
    public ServedEmbeddingModel acquireEmbedding(String alias) {
        Entry e = entry(alias, ModelKind.EMBEDDING);
        synchronized (e) {
            if (e.embedder == null) {
                verifyEmbedding(e); // signed-model check, as for generative models
                checkNotBroken(e);
                try {
                    e.embedder = loadEmbedding(e.spec);
                } catch (GatewayException failed) {
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
        if (e.broken != null && statOf(e).equals(e.brokenStat)) throw e.broken;
    }

    private static GatewayException broken(Entry e, GatewayException failed) {
        e.broken = failed;
        e.brokenStat = statOf(e);
        LOG.warning("model " + e.spec.alias() + " failed: " + failed.getMessage() + "; answering 503 until its files change");
        return failed;
    }

    /** Test seam (public since the registry left the tests' package): {@code hook} runs (with the alias) after a signed model's manifests are verified, before it loads. */
    public void afterVerification(java.util.function.Consumer<String> hook) {
        this.afterVerification = hook;
    }

    /** The model a request that names none gets: the first of the wanted kind (the first of all when there is none). */
    public String defaultAlias(ModelKind wanted) {
        return entries.values().stream().filter(x -> x.kind == wanted).findFirst().orElse(entries.values().iterator().next()).spec.alias();
    }

    /** The entry for a request: by alias, or the first of the wanted kind when the request names none. */
    private Entry entry(String alias, ModelKind wanted) {
        Entry e = entries.get(alias == null ? defaultAlias(wanted) : alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        if (e.kind != wanted) {
            throw GatewayException.invalidParam("model", wanted == ModelKind.EMBEDDING
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
            throw new GatewayException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be loaded: " + ex.getMessage());
        }
    }

    /**
     * With trusted keys configured: the model's manifest (and its LoRA adapter's: everything that changes the weights
     * must be signed) is checked before it loads: signature, trusted signer, the files and their sizes. The hashes are
     * checked during the load, on the bytes the loader maps and reads ({@link ManifestCheck}). A refused model answers
     * 503 naming the reason while the others keep serving. Null when no keys are configured.
     */
    private ManifestCheck verify(Entry e) {
        if (!trust.enabled()) return null;
        String stat = statOf(e);
        if (e.refused != null && stat.equals(e.refusedStat)) throw e.refused;
        try {
            List<ManifestCheck.Part> parts = new java.util.ArrayList<>();
            parts.add(new ManifestCheck.Part("model", e.spec.path(), trust.verifyManifest(e.spec.path())));
            if (e.spec.lora() != null) {
                try {
                    parts.add(new ManifestCheck.Part("LoRA adapter", e.spec.lora(), trust.verifyManifest(e.spec.lora())));
                } catch (IllegalArgumentException | UncheckedIOException ex) {
                    throw new ModelVerificationException("LoRA adapter " + e.spec.lora() + ": " + ex.getMessage()
                            + " (the adapter changes the weights: sign it too, autoglm sign --key K " + e.spec.lora() + ")");
                }
            }
            return new ManifestCheck(parts);
        } catch (IllegalArgumentException | UncheckedIOException ex) { // ModelVerificationException, or a malformed key in the manifest
            throw refuse(e, stat, ex.getMessage());
        }
    }

    /** The whole check by path for an embedding model (its loader reads ONNX files the manifest check does not see). */
    private void verifyEmbedding(Entry e) {
        if (!trust.enabled()) return;
        String stat = statOf(e);
        if (e.refused != null && stat.equals(e.refusedStat)) throw e.refused;
        try {
            ModelSignatures.Verified v = trust.verify(e.spec.path());
            e.refused = null;
            LOG.info(() -> "model " + e.spec.alias() + ": signature by key " + v.keyId() + " and " + v.files().size() + " file(s) verified");
        } catch (IllegalArgumentException | UncheckedIOException ex) {
            throw refuse(e, stat, ex.getMessage());
        }
    }

    /** Logs the refusal and remembers it until the files change; the 503 carries the reason without the server's directories. */
    private GatewayException refuse(Entry e, String stat, String message) {
        LOG.warning("model " + e.spec.alias() + " refused (signed-model check failed): " + message);
        String reason = message;
        for (Path p : e.spec.lora() == null ? List.of(e.spec.path()) : List.of(e.spec.path(), e.spec.lora())) {
            Path dir = p.toAbsolutePath().getParent();
            if (dir != null) reason = reason.replace(dir + java.io.File.separator, "");
        }
        e.refused = new GatewayException(503, "server_error", "model", "model_verification_failed",
                "model `" + e.spec.alias() + "` is not served: its signature check failed: " + reason);
        e.refusedStat = stat;
        return e.refused;
    }

    private static String statOf(Entry e) {
        return e.spec.lora() == null ? statOf(e.spec.path()) : statOf(e.spec.path()) + "\n--\n" + statOf(e.spec.lora());
    }

    /** Sizes and modification times of the model's files and manifest: only decides when to re-check a refused model. */
    private static String statOf(Path model) {
        StringBuilder sb = new StringBuilder();
        try {
            // The file key (device and inode) too: a file renamed over another within the clock's granularity has the
            // same size and time.
            for (Path p : ModelFiles.list(model)) sb.append(p).append(' ').append(identity(p)).append('\n');
            Path manifest = ModelFiles.manifestPath(model);
            if (Files.exists(manifest)) sb.append(identity(manifest));
        } catch (IOException | RuntimeException ex) {
            sb.append(ex);
        }
        return sb.toString();
    }

    private static String identity(Path p) throws IOException {
        java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
        return a.size() + " " + a.lastModifiedTime() + " " + a.fileKey();
    }

    private ServedModel load(Entry entry, ManifestCheck check) {
        ModelSpec spec = entry.spec;
        afterVerification.accept(spec.alias());
        long start = System.nanoTime();
        LanguageModel model;
        String verifiedDigest = null;
        try {
            if (check == null) {
                model = ModelLoader.load(spec.path(), LoadOptions.defaults().withLora(spec.lora()).withWeights(InMemoryQuantizer.transform(entry.quantizeTo)).withKvCache(spec.kvCache()));
            } else {
                model = LoadedFiles.checked(check, () -> ModelLoader.load(spec.path(), LoadOptions.defaults().withLora(spec.lora()).withWeights(InMemoryQuantizer.transform(entry.quantizeTo)).withKvCache(spec.kvCache())));
                try {
                    check.requireWeightsChecked();
                } catch (LoadedFiles.Refused ex) {
                    model.close();
                    throw ex;
                }
                entry.refused = null;
                verifiedDigest = check.contentDigest();
                String what = check.describe();
                LOG.info(() -> "model " + spec.alias() + ": " + what);
            }
        } catch (LoadedFiles.Refused ex) {
            throw refuse(entry, statOf(entry), ex.getMessage());
        } catch (RuntimeException ex) {
            LOG.log(Level.FINE, "cannot load model " + spec.alias(), ex); // the caller logs one line (broken)
            throw new GatewayException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be loaded: " + ex.getMessage());
        }
        try {
            int context = spec.context() != null ? spec.context() : Math.min(DEFAULT_CONTEXT, model.config().contextLength());
            if (context > model.config().contextLength()) {
                throw new IllegalArgumentException("context " + context + " exceeds the model's " + model.config().contextLength());
            }
            // before the scheduler exists, so the first request's tokens run compiled kernels (and readiness waits for it)
            ai.autoglm.core.model.WarmUp.run(model);
            ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler(spec.alias(), model, spec.slots(), context,
                    config.queueSize(), config.prefillBudget(), metrics.forModel(spec.alias()));
            LOG.info(() -> String.format("loaded %s from %s%s in %.1f s (%d slots x %d positions)", spec.alias(), spec.path(),
                    entry.quantizeTo != null ? ", quantized to " + entry.quantizeTo + " in memory" : "",
                    (System.nanoTime() - start) / 1e9, spec.slots(), context));
            return new ServedModel(spec, model, scheduler, verifiedDigest);
        } catch (RuntimeException ex) {
            model.close();
            throw new GatewayException(503, "server_error", "model", "model_load_failed",
                    "model `" + spec.alias() + "` could not be started: " + ex.getMessage());
        }
    }

    /** Unloads every loaded model that has had nothing to do for its keep-alive. */
    public void unloadIdle() {
        for (Entry e : entries.values()) {
            synchronized (e) {
                if (e.keepAlive == null) continue;
                long keep = e.keepAlive.toNanos();
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
     * @throws GatewayException (503) when it cannot be loaded or is refused
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

    /** Whether {@code alias} generates text or makes embeddings; null for an unknown alias. */
    public ModelKind kind(String alias) {
        Entry e = entries.get(alias);
        return e == null ? null : e.kind;
    }

    /** How long {@code alias} stays loaded with no request (null: until the server stops). */
    public java.time.Duration keepAlive(String alias) {
        Entry e = entries.get(alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        synchronized (e) {
            return e.keepAlive;
        }
    }

    /** Changes how long {@code alias} stays loaded with no request (null: until the server stops), until the server stops. */
    public void keepAlive(String alias, java.time.Duration keep) {
        Entry e = entries.get(alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        synchronized (e) {
            e.keepAlive = keep;
        }
    }

    /**
     * The memory model's estimate ({@link ai.autoglm.core.memory.MemoryModel#forServing}) of serving a generative
     * model as configured (its slots, context and load-time quantization); null for an embedding model or one whose
     * file cannot be read. The file is memory-mapped to read its shape; no weight page is read.
     */
    public ai.autoglm.core.memory.MemoryEstimate memoryEstimate(String alias) {
        Entry e = entries.get(alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        if (e.kind != ModelKind.GENERATIVE) return null;
        synchronized (e) {
            if (e.estimate == null) {
                try {
                    // the shape read at start-up when quantization or automatic slots needed it; otherwise read now, once
                    if (e.shape == null) e.shape = StoredShape.read(e.spec.path());
                    e.estimate = ai.autoglm.core.memory.MemoryModel.forServing(ai.autoglm.core.memory.ProcessKind.SERVER, e.shape.config(),
                            e.shape.served(e.quantizeTo), e.shape.context(e.spec.context()), Math.max(1, e.spec.slots()), e.spec.kvCache());
                } catch (RuntimeException ex) {
                    LOG.log(Level.FINE, "cannot estimate the memory of " + alias, ex);
                    return null;
                }
            }
            return e.estimate;
        }
    }

    /**
     * Unloads {@code alias} now (the admin API): requests running on it fail as at shutdown; the next request loads
     * it again. False when it was not loaded.
     */
    public boolean unload(String alias) {
        Entry e = entries.get(alias);
        if (e == null) throw GatewayException.modelNotFound(alias);
        synchronized (e) {
            boolean was = e.loaded != null || e.embedder != null;
            if (e.loaded != null) e.loaded.close();
            if (e.embedder != null) e.embedder.close();
            e.loaded = null;
            e.embedder = null;
            if (was) LOG.info(() -> "unloaded model " + alias + " (admin API)");
            return was;
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
