package ai.autoglm.spark;

import java.io.Serializable;

/**
 * How the executors load and run an embedding model (BERT family: a GGUF, a Hugging Face directory, an .onnx file, or
 * a langchain4j-embeddings jar, as {@code autoglm serve} accepts them).
 *
 * @param model     the model path, which must exist on every executor host
 * @param batchSize rows of a partition encoded in one call (the encoder spreads one call over every core)
 */
public record EmbeddingSettings(String model, int batchSize) implements Serializable {
    public EmbeddingSettings {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model: an embedding model path is required");
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
    }

    public static EmbeddingSettings of(String model) {
        return new EmbeddingSettings(model, 64);
    }
}
