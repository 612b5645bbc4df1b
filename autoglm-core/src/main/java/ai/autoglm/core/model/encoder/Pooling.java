package ai.autoglm.core.model.encoder;

import java.util.Locale;

/**
 * How one vector is made from an encoder's per-token hidden states (sentence-transformers {@code 1_Pooling/config.json}:
 * {@code pooling_mode_cls_token}, {@code pooling_mode_mean_tokens}; llama.cpp {@code LLAMA_POOLING_TYPE_CLS/MEAN},
 * stored as {@code bert.pooling_type} = 2 / 1 in GGUF).
 */
public enum Pooling {
    /** The hidden state of the first token ([CLS]). */
    CLS,
    /** The mean of the hidden states of all tokens of the input, [CLS] and [SEP] included (padding excluded). */
    MEAN;

    /**
     * The pooling a known model was trained with, judged by its name (file, directory or {@code general.name}):
     * BAAI bge models use CLS (their model cards and 1_Pooling configs); all-MiniLM-L6-v2 and e5 use mean pooling
     * (sentence-transformers' 1_Pooling config; intfloat/e5 model card "average_pool"). Anything else gets MEAN,
     * sentence-transformers' default pooling mode.
     */
    public static Pooling forModelName(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        if (n.contains("bge")) return CLS;
        return MEAN;
    }

    /** From llama.cpp's {@code pooling_type} enum value (1 = mean, 2 = cls), or null for others. */
    public static Pooling fromGgufPoolingType(long type) {
        return type == 1 ? MEAN : type == 2 ? CLS : null;
    }
}
