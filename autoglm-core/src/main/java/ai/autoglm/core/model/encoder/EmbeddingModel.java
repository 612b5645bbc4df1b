package ai.autoglm.core.model.encoder;

import java.util.List;

/**
 * A text embedding model: texts in, one vector each out (OpenAI {@code POST /v1/embeddings}). Thread-safe; one
 * call may embed many texts, which are batched internally.
 */
public interface EmbeddingModel extends AutoCloseable {

    /** A short name for the model (the file or directory it came from). */
    String name();

    /** Length of every embedding vector. */
    int dimension();

    /** Tokens per input the model reads at most; longer inputs are truncated at the end (special tokens included). */
    int maxTokens();

    /** One vector per text, in order; L2-normalized when the model normalizes (the default). */
    float[][] embed(List<String> texts);

    /** Tokens the model reads for {@code text} after truncation, special tokens included (for {@code usage}). */
    int tokenCount(String text);

    @Override
    void close();
}
