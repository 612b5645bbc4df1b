package ai.autoglm.core.model.encoder;

import ai.autoglm.core.tokenizer.WordPieceTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A BERT sentence-embedding model: WordPiece tokens ({@code [CLS] text [SEP]}, truncated), the encoder's last hidden
 * states, pooled ({@link Pooling}) and L2-normalized, as sentence-transformers' Transformer → Pooling → Normalize
 * pipeline computes them.
 */
public final class BertEmbeddingModel implements EmbeddingModel {
    /** Tokens per encoder call: bounds activation memory (about 12 KB per token for a 384-wide model). */
    private static final int MAX_BATCH_TOKENS = 4096;

    private final String name;
    private final BertEncoder encoder;
    private final WordPieceTokenizer tokenizer;
    private final Pooling pooling;
    private final boolean normalize;
    private final int maxTokens;
    private final AutoCloseable resources;

    public BertEmbeddingModel(String name, BertEncoder encoder, WordPieceTokenizer tokenizer, Pooling pooling,
                              boolean normalize, int maxTokens, AutoCloseable resources) {
        if (maxTokens < 2 || maxTokens > encoder.config().maxPositions()) {
            throw new IllegalArgumentException("maxTokens must be in [2, " + encoder.config().maxPositions() + "], got " + maxTokens);
        }
        this.name = name;
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.normalize = normalize;
        this.maxTokens = maxTokens;
        this.resources = resources;
    }

    @Override
    public String name() {
        return name;
    }

    public Pooling pooling() {
        return pooling;
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    public BertEncoder encoder() {
        return encoder;
    }

    @Override
    public int dimension() {
        return encoder.config().hidden();
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    /** The ids the encoder reads for {@code text}. */
    public int[] tokenize(String text) {
        return tokenizer.encodeForModel(text, maxTokens);
    }

    @Override
    public int tokenCount(String text) {
        return tokenize(text).length;
    }

    @Override
    public float[][] embed(List<String> texts) {
        List<int[]> all = new ArrayList<>(texts.size());
        for (String t : texts) all.add(tokenize(t));
        return embedTokens(all);
    }

    /** Embeddings of already tokenized inputs (each with its [CLS]/[SEP]). */
    public float[][] embedTokens(List<int[]> sequences) {
        float[][] out = new float[sequences.size()][];
        int from = 0;
        while (from < sequences.size()) {
            int to = from;
            int tokens = 0;
            while (to < sequences.size() && (to == from || tokens + sequences.get(to).length <= MAX_BATCH_TOKENS)) {
                tokens += sequences.get(to++).length;
            }
            float[][] hidden = encoder.forward(sequences.subList(from, to));
            for (int s = 0; s < hidden.length; s++) out[from + s] = pool(hidden[s]);
            from = to;
        }
        return out;
    }

    private float[] pool(float[] states) {
        int h = dimension();
        int len = states.length / h;
        float[] v = new float[h];
        if (pooling == Pooling.CLS) {
            System.arraycopy(states, 0, v, 0, h);
        } else {
            double[] sum = new double[h];
            for (int t = 0; t < len; t++) {
                for (int i = 0; i < h; i++) sum[i] += states[t * h + i];
            }
            for (int i = 0; i < h; i++) v[i] = (float) (sum[i] / len);
        }
        if (normalize) {
            double norm = 0;
            for (float x : v) norm += (double) x * x;
            // torch.nn.functional.normalize: divide by max(norm, 1e-12)
            double inv = 1.0 / Math.max(Math.sqrt(norm), 1e-12);
            for (int i = 0; i < h; i++) v[i] = (float) (v[i] * inv);
        }
        return v;
    }

    @Override
    public void close() {
        if (resources == null) return;
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "BertEmbeddingModel[" + name + ", " + encoder.config() + ", " + pooling + ", maxTokens " + maxTokens + "]";
    }
}
