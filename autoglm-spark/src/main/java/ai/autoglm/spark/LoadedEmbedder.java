package ai.autoglm.spark;

import ai.autoglm.core.model.encoder.BertEmbeddingModel;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An embedding model loaded in this JVM. The encoder already spreads one call over every core, so the tasks of an
 * executor take turns (a fair lock) rather than compete for the cores, as the server's {@code ServedEmbeddingModel}
 * does.
 */
public final class LoadedEmbedder implements AutoCloseable {
    private final BertEmbeddingModel model;
    private final ReentrantLock turn = new ReentrantLock(true);

    LoadedEmbedder(BertEmbeddingModel model) {
        this.model = model;
    }

    public BertEmbeddingModel model() {
        return model;
    }

    /** The token ids the encoder reads for {@code text} (cut at the model's limit, [CLS] and [SEP] included). */
    public int[] tokenize(String text) {
        return model.tokenize(text);
    }

    /** Embeddings of tokenized inputs, in order. */
    public float[][] embedTokens(List<int[]> inputs) {
        turn.lock();
        try {
            return model.embedTokens(inputs);
        } finally {
            turn.unlock();
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
