package ai.autoglm.core.tokenizer;

/**
 * Text to token ids and back, for one model's vocabulary. Implementations: byte-level BPE (GPT-2 style,
 * from tokenizer.json or GGUF {@code gpt2} vocabularies) and SentencePiece-style BPE (GGUF {@code llama}
 * vocabularies). Decoding goes through bytes so that a streaming decoder can hold back incomplete UTF-8.
 */
public interface Tokenizer {

    int vocabSize();

    /**
     * Encodes {@code text}. When {@code parseSpecial} is true, special/added tokens written in the text
     * (e.g. {@code <|im_start|>}) become their ids; otherwise they are encoded as plain text. Does not add
     * the {@link #prefixTokens() prefix}.
     */
    int[] encode(String text, boolean parseSpecial);

    /** The raw bytes a token stands for (special tokens: their UTF-8 text), as it appears in decoded output. */
    byte[] tokenBytes(int id);

    /** Decodes ids to text; invalid UTF-8 becomes U+FFFD. */
    String decode(int[] ids);

    /**
     * Decodes ids to text, leaving out special (control) tokens when {@code skipSpecial} is true
     * (HF {@code decode(ids, skip_special_tokens=True)}).
     */
    default String decode(int[] ids, boolean skipSpecial) {
        if (!skipSpecial) {
            return decode(ids);
        }
        return decode(java.util.Arrays.stream(ids).filter(id -> !isSpecial(id)).toArray());
    }

    /** The token's string as stored in the vocabulary (for display and debugging). */
    String tokenString(int id);

    /** The id of a token written exactly like this in the vocabulary, or -1. */
    int tokenId(String token);

    /** Whether this id is a special (control) token: skipped when decoding with skipSpecial. */
    boolean isSpecial(int id);

    /** Beginning-of-sequence id, or -1. */
    int bosId();

    /** End-of-sequence id, or -1. */
    int eosId();

    /**
     * The ids the model's own tokenizer puts before the text when it encodes with special tokens (HF
     * {@code encode(text, add_special_tokens=True)}, llama.cpp {@code add_special}): BOS for Llama
     * ({@code add_bos_token} / a TemplateProcessing post-processor), {@code [gMASK]<sop>} for GLM's tokenizers
     * (ChatGLMTokenizer / ChatGLM4Tokenizer {@code get_prefix_tokens}), nothing for Qwen. Never null; a fresh
     * array the caller may keep.
     */
    int[] prefixTokens();
}
