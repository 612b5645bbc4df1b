package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Builds the {@code tokenizer.json} of a byte-level BPE tokenizer with the pipeline of the real Llama 3, Qwen2 and
 * glm-4-9b-chat-hf files (HF tokenizers): a Split pre-tokenizer on the model's regex (Isolated), then ByteLevel
 * without its own regex, a ByteLevel decoder, a BPE model, and special added tokens after the learned vocabulary.
 * The trainer writes trained tokenizers with it and the test fixtures write their tiny ones.
 */
public final class ByteLevelBpeJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ByteLevelBpeJson() {
    }

    /**
     * @param splitRegex     the Split pre-tokenizer's regex
     * @param vocab          the BPE tokens in id order (byte-level symbols, e.g. {@code Ġthe})
     * @param merges         merge pairs in rank order, written as {@code [a, b]} arrays (tokenizers >= 0.20)
     * @param specials       special added tokens, ids {@code firstSpecial, firstSpecial + 1, ...}
     * @param firstSpecial   id of the first special token ({@code >= vocab.size()})
     */
    public static ObjectNode tokenizerJson(String splitRegex, List<String> vocab, List<String[]> merges, List<String> specials,
                                           int firstSpecial) {
        if (firstSpecial < vocab.size()) throw new IllegalArgumentException("special ids from " + firstSpecial + " overlap the vocabulary of " + vocab.size());
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < specials.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", firstSpecial + i);
            a.put("content", specials.get(i));
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
        split.putObject("pattern").put("Regex", splitRegex);
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
        for (int i = 0; i < vocab.size(); i++) v.put(vocab.get(i), i);
        ArrayNode m = model.putArray("merges");
        for (String[] pair : merges) m.addArray().add(pair[0]).add(pair[1]);
        return root;
    }
}
