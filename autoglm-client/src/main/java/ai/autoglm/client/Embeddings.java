package ai.autoglm.client;

import java.util.List;

/**
 * Embedding vectors, one per input text in order.
 *
 * @param vectors     the vectors (L2-normalized when the model normalizes)
 * @param promptTokens tokens read over all inputs
 * @param route       who computed them
 */
public record Embeddings(List<float[]> vectors, int promptTokens, Route route) {
    public Embeddings {
        vectors = List.copyOf(vectors);
    }
}
