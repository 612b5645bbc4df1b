package ai.autoglm.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** Builds a client that runs a model in this JVM (see {@link AutoGLMClient#inProcess()}). */
public final class InProcessBuilder {
    private Path model;
    private Path embeddingModel;
    private int slots = 8;
    private Integer context;
    private Duration requestTimeout = Duration.ofMinutes(10);

    InProcessBuilder() {
    }

    /** A GGUF file or a Hugging Face model directory. */
    public InProcessBuilder model(Path path) {
        this.model = Objects.requireNonNull(path);
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
        return InProcessClient.open(model != null ? model : BundledModel.path(), embeddingModel, slots, context, requestTimeout);
    }
}
