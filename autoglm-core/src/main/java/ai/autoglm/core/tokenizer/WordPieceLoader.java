package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link WordPieceTokenizer} from the two places BERT vocabularies live: a {@code tokenizer.json} whose
 * model is {@code WordPiece}, and GGUF metadata with {@code tokenizer.ggml.model = "bert"}.
 */
final class WordPieceLoader {
    private static final int MAX_VOCAB = 16 * 1024 * 1024;

    private WordPieceLoader() {
    }

    /** tokenizer.json: model {vocab, unk_token, continuing_subword_prefix, max_input_chars_per_word}, BertNormalizer. */
    static WordPieceTokenizer fromTokenizerJson(Path file, JsonNode root) {
        JsonNode model = root.path("model");
        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw new ModelFormatException(file, "WordPiece model.vocab is not an object");
        }
        Map<String, Integer> vocab = new HashMap<>();
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = id(file, e.getValue(), "model.vocab['" + e.getKey() + "']");
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText("");
            if (content.isEmpty()) throw new ModelFormatException(file, "added token without content");
            int id = id(file, t.get("id"), "added token '" + content + "'");
            added.add(new AddedToken(content, id, t.path("special").asBoolean(false), false, false));
            maxId = Math.max(maxId, id);
        }
        String[] tokens = new String[maxId + 1];
        vocab.forEach((s, id) -> tokens[id] = s);
        boolean[] special = new boolean[maxId + 1];
        for (AddedToken t : added) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
        }
        WordPieceTokenizer.Normalization norm = normalization(file, root.path("normalizer"));
        String preType = root.path("pre_tokenizer").path("type").asText("");
        if (!preType.equals("BertPreTokenizer")) {
            throw new ModelFormatException(file, "unsupported pre_tokenizer '" + preType + "' for a WordPiece model "
                    + "(supported: BertPreTokenizer)");
        }
        String prefix = model.path("continuing_subword_prefix").asText("##");
        int maxChars = model.path("max_input_chars_per_word").asInt(100);
        int unk = required(file, vocab, added, model.path("unk_token").asText("[UNK]"));
        int[] clsSep = clsSep(file, root.path("post_processor"), vocab, added);
        int maxLength = root.path("truncation").path("max_length").asInt(0);
        return new WordPieceTokenizer(tokens, vocab, special, added, norm, prefix, maxChars, unk, clsSep[0], clsSep[1],
                Math.max(0, maxLength));
    }

    private static WordPieceTokenizer.Normalization normalization(Path file, JsonNode n) {
        if (n.isMissingNode() || n.isNull()) return new WordPieceTokenizer.Normalization(false, false, false, false);
        if (!"BertNormalizer".equals(n.path("type").asText())) {
            throw new ModelFormatException(file, "unsupported normalizer '" + n.path("type").asText()
                    + "' for a WordPiece model (supported: BertNormalizer)");
        }
        boolean lowercase = n.path("lowercase").asBoolean(true);
        JsonNode strip = n.path("strip_accents");
        return new WordPieceTokenizer.Normalization(n.path("clean_text").asBoolean(true),
                n.path("handle_chinese_chars").asBoolean(true),
                strip.isBoolean() ? strip.asBoolean() : lowercase, // null: follow lowercase (bert.rs)
                lowercase);
    }

    /** [CLS] and [SEP] from the TemplateProcessing post-processor's single template, else by their usual names. */
    private static int[] clsSep(Path file, JsonNode pp, Map<String, Integer> vocab, List<AddedToken> added) {
        JsonNode single = pp.path("single");
        if ("TemplateProcessing".equals(pp.path("type").asText()) && single.isArray() && single.size() == 3
                && single.get(0).has("SpecialToken") && single.get(2).has("SpecialToken")) {
            return new int[] {
                    required(file, vocab, added, single.get(0).path("SpecialToken").path("id").asText()),
                    required(file, vocab, added, single.get(2).path("SpecialToken").path("id").asText())};
        }
        if ("BertProcessing".equals(pp.path("type").asText())) {
            return new int[] {pp.path("cls").path(1).asInt(), pp.path("sep").path(1).asInt()};
        }
        return new int[] {required(file, vocab, added, "[CLS]"), required(file, vocab, added, "[SEP]")};
    }

    private static int required(Path file, Map<String, Integer> vocab, List<AddedToken> added, String token) {
        for (AddedToken t : added) if (t.content().equals(token)) return t.id();
        Integer id = vocab.get(token);
        if (id == null) throw new ModelFormatException(file, "token '" + token + "' is not in the vocabulary");
        return id;
    }

    private static int id(Path file, JsonNode v, String what) {
        if (v == null || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= MAX_VOCAB) {
            throw new ModelFormatException(file, what + " has an invalid id " + v);
        }
        return v.asInt();
    }

    /**
     * GGUF {@code bert} vocabulary as llama.cpp's convert_hf_to_gguf.py BertModel.set_vocab writes it: control tokens
     * as they are, continuation pieces without their {@code ##}, every other token behind a U+2581 "phantom space".
     * The WordPiece spelling is restored here. llama.cpp's WPM tokenizer always lowercases and strips accents, so the
     * normalization is bert-base-uncased's.
     */
    static WordPieceTokenizer fromGgufTokens(Path file, List<String> ggufTokens, int[] types, int unk, int cls, int sep) {
        int n = ggufTokens.size();
        String[] tokens = new String[n];
        boolean[] special = new boolean[n];
        Map<String, Integer> vocab = new HashMap<>(n * 2);
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String t = ggufTokens.get(i);
            if (types[i] == GgufTokenizerLoader.CONTROL || types[i] == GgufTokenizerLoader.USER_DEFINED) {
                tokens[i] = t;
                special[i] = types[i] == GgufTokenizerLoader.CONTROL;
                added.add(new AddedToken(t, i, special[i], false, false));
            } else if (t.startsWith("\u2581")) {
                tokens[i] = t.substring(1);
            } else {
                tokens[i] = "##" + t;
            }
            vocab.putIfAbsent(tokens[i], i);
        }
        for (int id : new int[] {unk, cls, sep}) {
            if (id < 0 || id >= n) {
                throw new ModelFormatException(file, "BERT vocabulary needs [UNK], [CLS] and [SEP] ids inside the "
                        + n + " tokens, got " + unk + ", " + cls + ", " + sep);
            }
        }
        return new WordPieceTokenizer(tokens, vocab, special, added, WordPieceTokenizer.Normalization.UNCASED, "##", 100,
                unk, cls, sep, 0);
    }
}
