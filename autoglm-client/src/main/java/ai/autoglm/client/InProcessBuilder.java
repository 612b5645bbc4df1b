package ai.autoglm.client;

import ai.autoglm.core.hub.HubException;
import ai.autoglm.core.hub.HubSettings;
import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.PullListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** Builds a client that runs a model in this JVM (see {@link AutoGLMClient#inProcess()}). */
public final class InProcessBuilder {
    private Path model;
    private String modelName;
    private HubSettings hub;
    private Path embeddingModel;
    private int slots = 8;
    private Integer context;
    private Duration requestTimeout = Duration.ofMinutes(10);

    InProcessBuilder() {
    }

    /** A GGUF file or a Hugging Face model directory. */
    public InProcessBuilder model(Path path) {
        this.model = Objects.requireNonNull(path);
        this.modelName = null;
        return this;
    }

    /**
     * A model by name, as {@code autoglm --model NAME} takes it: a catalog name ({@code glm-4-9b-chat}) or a Hugging
     * Face repository {@code org/name[@revision][:QUANT]}, found in the Hugging Face cache ({@code $HF_HOME/hub}) or
     * pulled into it at {@link #build()} (verified, resumable; {@code HF_HUB_OFFLINE=1} forbids the network). A
     * value that does not read as a name is a path.
     */
    public InProcessBuilder model(String nameOrPath) {
        Objects.requireNonNull(nameOrPath);
        if (ModelNames.isName(nameOrPath)) {
            this.modelName = nameOrPath;
            this.model = null;
        } else {
            model(Path.of(nameOrPath));
        }
        return this;
    }

    /** Where and how models by name are found and pulled (default: {@link HubSettings#fromEnvironment()}, the HF_* variables). */
    public InProcessBuilder hubSettings(HubSettings settings) {
        this.hub = Objects.requireNonNull(settings);
        return this;
    }

    /** The bundled default model ({@link BundledModel#path()}). */
    public InProcessBuilder bundledModel() {
        this.model = null;
        return this;
    }

    /** An embedding model (a BERT-family GGUF file or HF directory) for {@link AutoGLMClient#embed}. */
    public InProcessBuilder embeddingModel(Path path) {
        this.embeddingModel = path;
        return this;
    }

    private ai.autoglm.core.model.KvCacheTypes kvCache = ai.autoglm.core.model.KvCacheTypes.DEFAULT;

    /** Requests decoded together (default 8); more wait for a free slot. Each slot holds its own KV cache. */
    public InProcessBuilder slots(int n) {
        if (n < 1) throw new IllegalArgumentException("slots must be at least 1, got " + n);
        this.slots = n;
        return this;
    }

    /** KV positions per request, prompt plus answer (default: min(4096, the model's context)). */
    public InProcessBuilder context(int positions) {
        if (positions < 2) throw new IllegalArgumentException("context must be at least 2, got " + positions);
        this.context = positions;
        return this;
    }

    /**
     * Element types of the slots' KV caches, llama.cpp's names: {@code f32} (default), {@code f16}, {@code q8_0},
     * {@code q4_0} (as {@code --cache-type-k/--cache-type-v}); an unknown name is an IllegalArgumentException here.
     */
    public InProcessBuilder kvCacheTypes(String keys, String values) {
        this.kvCache = ai.autoglm.core.model.KvCacheTypes.parse(keys, values);
        return this;
    }

    /** The most time one request may take (default 10 minutes). */
    public InProcessBuilder requestTimeout(Duration t) {
        this.requestTimeout = Objects.requireNonNull(t);
        return this;
    }

    /**
     * Loads the model.
     *
     * @throws ModelFileNotFoundException when the file (or the bundled model) is not there
     */
    public AutoGLMClient build() {
        return open();
    }

    InProcessClient open() {
        Path file = modelName != null ? resolveName() : model != null ? model : BundledModel.path();
        return InProcessClient.open(file, embeddingModel, slots, context, requestTimeout, kvCache);
    }

    private Path resolveName() {
        HubSettings settings = hub != null ? hub : HubSettings.fromEnvironment();
        try {
            return new ModelPuller(settings).resolve(ModelNames.parse(modelName, "huggingface"), "huggingface", PullListener.NONE).modelPath();
        } catch (HubException.NotCached e) {
            throw new ModelFileNotFoundException(null, e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot get model " + modelName + ": " + e.getMessage(), e);
        }
    }
}
