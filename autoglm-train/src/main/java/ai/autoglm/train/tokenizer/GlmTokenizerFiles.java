package ai.autoglm.train.tokenizer;

import ai.autoglm.train.AtomicWrites;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
     * GLM-4's chat format (after glm-4-9b-chat's chat_template, without its tool-calling branches): {@code [gMASK]<sop>}
     * once, then each turn as {@code <|role|>\n content}; generation continues after {@code <|assistant|>}.
     */
    public static final String CHAT_TEMPLATE = "[gMASK]<sop>{% for message in messages %}"
            + "{% if message['role'] in ['system', 'user', 'assistant', 'observation'] %}<|{{ message['role'] }}|>\n{{ message['content'] }}{% endif %}"
            + "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

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
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        int id = vocab.tokens().size();
        for (String s : SPECIAL_TOKENS) {
            ObjectNode a = added.addObject();
            a.put("id", id++);
            a.put("content", s);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", BpeTrainer.SPLIT_REGEX);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode bl = seq.addObject();
        bl.put("type", "ByteLevel");
        bl.put("add_prefix_space", false);
        bl.put("trim_offsets", true);
        bl.put("use_regex", false);
        root.putNull("post_processor");
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.tokens().size(); i++) v.put(vocab.tokens().get(i), i);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : vocab.merges()) merges.addArray().add(m[0]).add(m[1]); // tokenizers >= 0.20 form
        return root;
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
