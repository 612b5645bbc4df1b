package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.WeightSource;

import java.nio.file.Path;

/**
 * The sizes of a BERT encoder (HF BertConfig: vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size, max_position_embeddings, type_vocab_size, layer_norm_eps). Everything but the head count and
 * the LayerNorm epsilon is read off the weights' shapes ({@link #infer}); those two come from the format's metadata.
 */
public record BertConfig(int vocabSize, int hidden, int layers, int heads, int intermediate, int maxPositions,
                         int typeVocabSize, float layerNormEps) {

    /** BertConfig's default layer_norm_eps, which all four reference models use. */
    public static final float DEFAULT_EPS = 1e-12f;

    public BertConfig {
        if (vocabSize < 1 || hidden < 1 || layers < 1 || heads < 1 || intermediate < 1 || maxPositions < 1 || typeVocabSize < 1) {
            throw new IllegalArgumentException("BERT sizes must be positive: " + this);
        }
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden size " + hidden + " is not a multiple of the head count " + heads);
        }
        if (!(layerNormEps > 0) || layerNormEps > 1) {
            throw new IllegalArgumentException("layer_norm_eps must be in (0, 1], got " + layerNormEps);
        }
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Sizes from the tensor shapes of {@code w} (GGUF names and order), with the given head count and epsilon. */
    public static BertConfig infer(Path file, WeightSource w, int heads, float eps) {
        long[] embd = need(file, w, BertTensorNames.TOKEN_EMBD, 2);
        long[] pos = need(file, w, BertTensorNames.POSITION_EMBD, 2);
        long[] types = need(file, w, BertTensorNames.TOKEN_TYPES, 2);
        int layers = 0;
        while (w.names().contains(BertTensorNames.block(BertTensorNames.ATTN_Q, layers, ".weight"))) layers++;
        if (layers == 0) {
            throw new ModelFormatException(file, "no encoder layers (expected tensors like blk.0.attn_q.weight)");
        }
        long[] up = need(file, w, BertTensorNames.block(BertTensorNames.FFN_UP, 0, ".weight"), 2);
        int hidden = small(file, embd[0], "hidden size");
        if (heads < 1 || hidden % heads != 0) {
            throw new ModelFormatException(file, "attention head count " + heads + " does not divide the hidden size " + hidden);
        }
        if (!(eps > 0) || eps > 1) {
            throw new ModelFormatException(file, "LayerNorm epsilon " + eps + " is not in (0, 1]");
        }
        return new BertConfig(small(file, embd[1], "vocabulary size"), hidden, layers, heads,
                small(file, up[1], "intermediate size"), small(file, pos[1], "position count"),
                small(file, types[1], "token type count"), eps);
    }

    private static long[] need(Path file, WeightSource w, String name, int dims) {
        long[] s = w.shape(name);
        if (s == null) throw new ModelFormatException(file, "missing BERT tensor " + name);
        if (s.length != dims) {
            throw new ModelFormatException(file, "tensor " + name + " has " + s.length + " dimensions, expected " + dims);
        }
        return s;
    }

    private static int small(Path file, long v, String what) {
        if (v < 1 || v > 1 << 24) throw new ModelFormatException(file, what + " " + v + " is out of range");
        return (int) v;
    }
}
