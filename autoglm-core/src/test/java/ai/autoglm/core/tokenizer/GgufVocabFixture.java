package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GGUF tokenizer metadata written from a tokenizer.json the way llama.cpp's convert_hf_to_gguf.py does
 * (get_vocab_base for byte-level BPE: added tokens → CONTROL when special or looking special, else
 * USER_DEFINED; ids without a token → "[PAD<id>]" UNUSED; merges as "a b"; SentencePiece vocabularies:
 * UNKNOWN/CONTROL/BYTE/NORMAL types and scores). The SentencePiece scores are not in tokenizer.json; they are
 * rebuilt from the merge order (the earlier a token is first produced by a merge, the higher its score),
 * which is how HF's converter derived that merge order from the original scores.
 */
final class GgufVocabFixture {
    private GgufVocabFixture() {
    }

    static Map<String, GgufValue> fromTokenizerJson(Path dir, String pre, int extraPadding) throws IOException {
        JsonNode root = NodeReference.JSON.readTree(Files.readString(dir.resolve("tokenizer.json")));
        JsonNode cfg = NodeReference.JSON.readTree(Files.readString(dir.resolve("tokenizer_config.json")));
        JsonNode model = root.get("model");
        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> vocab = new HashMap<>();
        model.get("vocab").fields().forEachRemaining(e -> {
            byId.put(e.getValue().asInt(), e.getKey());
            vocab.put(e.getKey(), e.getValue().asInt());
        });
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode t : root.get("added_tokens")) {
            added.put(t.get("id").asInt(), t);
            byId.put(t.get("id").asInt(), t.get("content").asText());
        }
        int n = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1 + extraPadding;
        boolean spm = pre == null;

        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.get("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        Map<Integer, Integer> firstRank = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            String m = merges.get(r);
            int sp = m.indexOf(' ', 1);
            firstRank.putIfAbsent(vocab.get(m.substring(0, sp) + m.substring(sp + 1)), r);
        }

        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String t = byId.get(i);
            int type;
            if (t == null) {
                t = "[PAD" + i + "]";
                type = GgufTokenizerLoader.UNUSED;
            } else if (added.containsKey(i)) {
                boolean looksSpecial = t.startsWith("<|") && t.endsWith("|>");
                boolean special = added.get(i).get("special").asBoolean();
                type = spm && t.equals(model.path("unk_token").asText()) ? GgufTokenizerLoader.UNKNOWN
                        : special || looksSpecial ? GgufTokenizerLoader.CONTROL : GgufTokenizerLoader.USER_DEFINED;
            } else if (spm && t.matches("<0x[0-9A-F]{2}>")) {
                type = GgufTokenizerLoader.BYTE;
            } else {
                type = GgufTokenizerLoader.NORMAL;
            }
            tokens.add(t);
            types.add(type);
            Integer r = firstRank.get(i);
            scores.add(r == null ? 0f : -(r + 1f));
        }

        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string(spm ? "llama" : "gpt2"));
        if (!spm) {
            md.put("tokenizer.ggml.pre", GgufValue.string(pre));
        }
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        if (spm) {
            md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        }
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        if (!spm) {
            md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
        }
        Map<String, Integer> ids = new HashMap<>(vocab);
        byId.forEach((id, s) -> ids.put(s, id));
        for (String key : new String[] {"bos", "eos"}) {
            JsonNode v = cfg.get(key + "_token");
            String s = v == null || v.isNull() ? null : v.isTextual() ? v.asText() : v.path("content").asText();
            if (s != null && ids.containsKey(s)) {
                md.put("tokenizer.ggml." + key + "_token_id", GgufValue.uint32(ids.get(s)));
            }
        }
        if (cfg.path("add_bos_token").isBoolean()) {
            md.put("tokenizer.ggml.add_bos_token", GgufValue.bool(cfg.get("add_bos_token").asBoolean()));
        }
        return md;
    }
}
