package ai.autoglm.train.tokenizer;

import ai.autoglm.core.tokenizer.ByteLevelBpeJson;
import ai.autoglm.core.tokenizer.Glm4ChatTemplate;
import ai.autoglm.train.AtomicWrites;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a trained byte-level BPE vocabulary as the HF tokenizers files a GLM-4 model directory carries:
 * {@code tokenizer.json} (BPE model, GLM-4's split regex then ByteLevel without its own regex, ByteLevel decoder:
 * the pipeline of glm-4-9b-chat-hf's tokenizer.json) with the GLM chat-format special tokens after the learned
 * vocabulary, and {@code tokenizer_config.json} with eos/pad token and a GLM-4 chat template.
 */
public final class GlmTokenizerFiles {
    /** Special tokens of the GLM chat format (glm-4-9b-chat tokenizer_config.json added_tokens_decoder), in id order. */
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
            "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>");
    public static final String EOS = "<|endoftext|>";

    /**
     * GLM-4's chat format with tool calling, taking the OpenAI shapes the server passes ({@link Glm4ChatTemplate}:
     * tools in the system block, calls as {@code <|assistant|>name\n{args}}, results as {@code <|observation|>} turns,
     * as glm-4-9b-chat's own template writes them).
     */
    public static final String CHAT_TEMPLATE = Glm4ChatTemplate.TEMPLATE;

    private static final ObjectMapper JSON = new ObjectMapper();

    private GlmTokenizerFiles() {
    }

    /** Total vocabulary size of a tokenizer with {@code learned} BPE tokens. */
    public static int vocabSize(BpeTrainer.Vocabulary learned) {
        return learned.tokens().size() + SPECIAL_TOKENS.size();
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir} (created if needed). */
    public static void write(BpeTrainer.Vocabulary vocab, int contextLength, Path dir) {
        try {
            Files.createDirectories(dir);
            AtomicWrites.writeBytes(dir.resolve("tokenizer.json"), JSON.writeValueAsBytes(tokenizerJson(vocab)));
            AtomicWrites.writeBytes(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tokenizerConfig(contextLength)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode tokenizerJson(BpeTrainer.Vocabulary vocab) {
        return ByteLevelBpeJson.tokenizerJson(BpeTrainer.SPLIT_REGEX, vocab.tokens(), vocab.merges(), SPECIAL_TOKENS, vocab.tokens().size());
    }

    static ObjectNode tokenizerConfig(int contextLength) {
        ObjectNode c = JSON.createObjectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("eos_token", EOS);
        c.put("pad_token", EOS);
        c.put("add_bos_token", false);
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", contextLength);
        c.put("chat_template", CHAT_TEMPLATE);
        return c;
    }
}
