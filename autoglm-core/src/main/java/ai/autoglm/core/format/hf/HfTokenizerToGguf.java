package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code tokenizer.*} GGUF metadata for a Hugging Face directory's tokenizer.json + tokenizer_config.json, as
 * llama.cpp's convert_hf_to_gguf.py writes it ({@code TextModel._set_vocab_gpt2} / {@code get_vocab_base},
 * {@code _set_vocab_llama_hf} with gguf-py {@code vocab.py LlamaHfVocab}, and {@code SpecialVocab} for special ids,
 * add-token flags, merges and the chat template). Works from the JSON files alone (the reference loads
 * transformers' AutoTokenizer); the differences are listed where they arise.
 *
 * <p>Which vocabulary: as the reference's try-chain decides it. A BPE model with {@code byte_fallback} and a
 * {@code Sequence} decoder is a SentencePiece-converted (Llama-2 style) vocabulary: {@code tokenizer.ggml.model =
 * "llama"}. A BPE model without byte fallback and a {@code ByteLevel} decoder is GPT-2 style byte-level BPE:
 * {@code "gpt2"}. Anything else is refused.
 *
 * <p>{@code tokenizer.ggml.pre}: llama.cpp identifies the pre-tokenizer by hashing the token ids of a probe text
 * ({@code get_vocab_base_pre}), which needs a working tokenizer. Here it is identified by the split regex of the
 * tokenizer.json pre-tokenizer, which is what that hash stands for: the Llama-3 regex (digits in runs of 1-3) gives
 * {@code "llama-bpe"}, the Qwen2 regex (single digits) gives {@code "qwen2"}; any other regex is refused with its
 * text in the message, as the reference refuses an unknown hash.
 *
 * <p>A GLM directory without tokenizer.json (glm-4-9b-chat's tiktoken or ChatGLM3's SentencePiece
 * {@code tokenizer.model}) gets its vocabulary from {@link GlmTokenizerModelVocab}; the special ids, add-token flags and
 * chat template come from the same SpecialVocab steps.
 */
public final class HfTokenizerToGguf {
    // gguf-py constants.py TokenType
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** Pre-tokenizer regexes as they appear in tokenizer.json, to the llama.cpp pre-tokenizer name (llama-vocab.cpp). */
    static final Map<String, String> PRE_TOKENIZERS = Map.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "llama-bpe",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2");

    /** SpecialVocab.special_token_types, with the GGUF key each one is written under (gguf-py constants.py Keys.Tokenizer). */
    private static final Map<String, String> SPECIAL_KEYS = orderedMap(
            "bos", GgufKeys.TOKENIZER_BOS_ID,
            "eos", GgufKeys.TOKENIZER_EOS_ID,
            "unk", GgufKeys.TOKENIZER_UNK_ID,
            "sep", GgufKeys.TOKENIZER_SEP_ID, // sic: llama.cpp's spelling
            "pad", GgufKeys.TOKENIZER_PAD_ID,
            "cls", GgufKeys.TOKENIZER_CLS_ID,
            "mask", GgufKeys.TOKENIZER_MASK_ID,
            "eot", GgufKeys.TOKENIZER_EOT_ID);
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final Path dir;
    private final Path tokenizerFile;
    private final JsonNode tokenizer;
    private final JsonNode tokenizerConfig; // may be null
    private final JsonNode config;
    private final Map<String, GgufValue> out = new LinkedHashMap<>();
    private final String ggufArch;

    private HfTokenizerToGguf(Path dir, JsonNode config, String ggufArch) {
        this.dir = dir;
        this.config = config;
        this.ggufArch = ggufArch;
        this.tokenizerFile = dir.resolve("tokenizer.json");
        // Without tokenizer.json (THUDM's remote-code GLM checkpoints) there is no tokenizer.json content: SpecialVocab
        // then finds no added_tokens and no post-processor, as here with an empty object.
        this.tokenizer = Files.isRegularFile(tokenizerFile) ? HfCheckpoint.readJson(tokenizerFile)
                : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        Path tc = dir.resolve("tokenizer_config.json");
        this.tokenizerConfig = Files.isRegularFile(tc) ? HfCheckpoint.readJson(tc) : null;
    }

    /** The tokenizer metadata in the order the reference writes it. {@code ggufArch} picks llama-only extras. */
    public static Map<String, GgufValue> metadata(Path dir, JsonNode config, String ggufArch) {
        HfTokenizerToGguf t = new HfTokenizerToGguf(dir, config, ggufArch);
        if (!Files.isRegularFile(t.tokenizerFile)) {
            Path model = dir.resolve("tokenizer.model");
            if (Files.isRegularFile(model) && t.isGlm()) {
                t.glmTokenizerModel(model);
                return t.out;
            }
            throw new ModelFormatException(t.tokenizerFile, "missing: the GGUF needs the vocabulary from tokenizer.json"
                    + " (a tokenizer.model alone is converted for the GLM remote-code checkpoints only)");
        }
        JsonNode model = t.tokenizer.path("model");
        String type = model.path("type").asText("");
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        String decoder = t.tokenizer.path("decoder").path("type").asText("");
        if (type.equals("BPE") && byteFallback && decoder.equals("Sequence")) {
            if (ggufArch.equals("llama") && t.tokenizerConfig != null && t.tokenizerConfig.path("add_prefix_space").isBoolean()) {
                // LlamaModel.set_vocab: add_prefix_space from tokenizer_config.json
                t.out.put(GgufKeys.TOKENIZER_ADD_SPACE_PREFIX, GgufValue.bool(t.tokenizerConfig.get("add_prefix_space").asBoolean()));
            }
            t.llamaVocab();
        } else if (type.equals("BPE") && !byteFallback && decoder.equals("ByteLevel")) {
            t.gpt2Vocab();
        } else {
            throw new ModelFormatException(t.tokenizerFile, "unsupported tokenizer: model type '" + type + "', byte_fallback "
                    + byteFallback + ", decoder '" + decoder + "' (supported: byte-level BPE, SentencePiece-style BPE)");
        }
        return t.out;
    }

    // ---- GPT-2 style: TextModel.get_vocab_base + _set_vocab_gpt2 ----

    private void gpt2Vocab() {
        Map<Integer, String> byId = baseVocab();
        Map<Integer, JsonNode> added = addedTokens();
        for (Map.Entry<Integer, JsonNode> a : added.entrySet()) byId.put(a.getKey(), a.getValue().path("content").asText());
        int maxId = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        // ChatGLMModel.set_vocab: hparams.get("padded_vocab_size", hparams["vocab_size"])
        int vocabSize = config.hasNonNull("padded_vocab_size") ? config.get("padded_vocab_size").asInt()
                : config.path("vocab_size").asInt(byId.size());
        if (maxId >= vocabSize) {
            throw new ModelFormatException(tokenizerFile, "token id " + maxId + " is not below config.json vocab_size " + vocabSize);
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        List<Integer> types = new ArrayList<>(vocabSize);
        for (int i = 0; i < vocabSize; i++) {
            String tok = byId.get(i);
            if (tok == null) {
                tokens.add("[PAD" + i + "]");
                types.add(UNUSED);
            } else if (added.containsKey(i)) {
                // Reference: special or looks special -> CONTROL, else USER_DEFINED with "▁" pre-normalized to " ".
                // (It also round-trips non-normalized added tokens through the tokenizer; not done here.)
                if (added.get(i).path("special").asBoolean(false) || looksSpecial(tok)) {
                    types.add(CONTROL);
                } else {
                    tok = tok.replace('\u2581', ' ');
                    types.add(USER_DEFINED);
                }
                tokens.add(tok);
            } else {
                tokens.add(tok);
                types.add(NORMAL);
            }
        }
        out.put(GgufKeys.TOKENIZER_MODEL, GgufValue.string("gpt2"));
        out.put(GgufKeys.TOKENIZER_PRE, GgufValue.string(preTokenizer()));
        out.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.array(GgufValueType.STRING, tokens));
        out.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.array(GgufValueType.INT32, types));
        specialVocab(tokenizerJsonMerges(), null, isGlm() ? addedVocab() : null);
    }

    /** TextModel.does_token_look_special. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>"))
                || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private String preTokenizer() {
        List<String> regexes = new ArrayList<>();
        collectSplitRegexes(tokenizer.path("pre_tokenizer"), regexes);
        for (String r : regexes) {
            String name = PRE_TOKENIZERS.get(r);
            // GLM-4's split regex is Llama 3's; llama.cpp tells them apart by the vocabulary hash and names GLM-4's
            // tokenizer.json "glm4" (convert_hf_to_gguf.py get_vocab_base_pre, THUDM/glm-4-9b-hf), which llama-vocab.cpp
            // treats like "chatglm-bpe" (LLAMA_VOCAB_PRE_TYPE_CHATGLM4, same regex, no BOS).
            if ("llama-bpe".equals(name) && isGlm()) return "glm4";
            if (name != null) return name;
        }
        throw new ModelFormatException(tokenizerFile, "BPE pre-tokenizer was not recognized (split regex "
                + (regexes.isEmpty() ? "none" : regexes) + "); known: llama-bpe (Llama 3), qwen2 (Qwen2)");
    }

    private static void collectSplitRegexes(JsonNode pre, List<String> into) {
        if (pre == null || !pre.isObject()) return;
        if ("Split".equals(pre.path("type").asText()) && pre.path("pattern").path("Regex").isTextual()) {
            into.add(pre.path("pattern").path("Regex").asText());
        }
        for (JsonNode child : pre.path("pretokenizers")) collectSplitRegexes(child, into);
    }

    // ---- SentencePiece-converted BPE: _set_vocab_llama_hf / LlamaHfVocab ----

    private void llamaVocab() {
        Map<Integer, String> base = baseVocab();
        int baseSize = base.size();
        for (int i = 0; i < baseSize; i++) {
            if (!base.containsKey(i)) {
                throw new ModelFormatException(tokenizerFile, "model.vocab ids are not 0.." + (baseSize - 1) + " (missing " + i + ")");
            }
        }
        Map<Integer, JsonNode> added = addedTokens();
        Map<String, Integer> mergeRank = mergeProducts();
        String unk = tokenizer.path("model").path("unk_token").asText(null);
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < baseSize; i++) {
            String tok = base.get(i);
            int type;
            JsonNode a = added.get(i);
            if (BYTE_TOKEN.matcher(tok).matches()) type = BYTE;
            else if (tok.equals(unk)) type = UNKNOWN;
            else if (a != null && a.path("special").asBoolean(false)) type = CONTROL;
            else if (a != null) type = USER_DEFINED;
            else type = NORMAL;
            tokens.add(tok);
            types.add(type);
            scores.add(score(tok, type, i, mergeRank));
        }
        // added tokens beyond the base vocabulary (LlamaHfVocab.added_tokens), in id order; ids must continue the vocab
        int next = baseSize;
        for (Map.Entry<Integer, JsonNode> a : new java.util.TreeMap<>(added).entrySet()) {
            if (a.getKey() < baseSize) continue;
            if (a.getKey() != next) {
                throw new ModelFormatException(tokenizerFile, "added token ids must follow the vocabulary without gaps: expected "
                        + next + ", got " + a.getKey());
            }
            tokens.add(a.getValue().path("content").asText());
            types.add(a.getValue().path("special").asBoolean(false) ? CONTROL : USER_DEFINED);
            scores.add(-1000f);
            next++;
        }
        // pad to config.json vocab_size like _set_vocab_sentencepiece does, so the embedding rows all have a token
        int vocabSize = config.path("vocab_size").asInt(tokens.size());
        for (int i = tokens.size(), pad = 1; i < vocabSize; i++, pad++) {
            tokens.add("[PAD" + pad + "]");
            types.add(UNUSED);
            scores.add(-1000f);
        }
        out.put(GgufKeys.TOKENIZER_MODEL, GgufValue.string("llama"));
        out.put(GgufKeys.TOKENIZER_PRE, GgufValue.string("default"));
        out.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.array(GgufValueType.STRING, tokens));
        out.put(GgufKeys.TOKENIZER_SCORES, GgufValue.array(GgufValueType.FLOAT32, scores));
        out.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.array(GgufValueType.INT32, types));
        specialVocab(null, tokens.size(), isGlm() ? addedVocab() : null);
    }

    /**
     * Token scores for the SentencePiece-style vocabulary. Deliberate difference from LlamaHfVocab, which gives every
     * token -1000 (it has no scores to read): llama.cpp's SPM tokenizer merges the highest-scoring bigram first, so
     * equal scores would tokenize differently from the HF tokenizer. A token made by merge number r gets -r, so merges
     * apply in tokenizer.json order, which reproduces the ordering of the original tokenizer.model scores the HF
     * merges were generated from; other normal tokens come after every merge; byte, unknown and control tokens get 0
     * as in a tokenizer.model; user-defined tokens -1000 as in the reference.
     */
    private static float score(String tok, int type, int id, Map<String, Integer> mergeRank) {
        return switch (type) {
            case NORMAL -> {
                Integer r = mergeRank.get(tok);
                yield r != null ? -r : -(float) (mergeRank.size() + id);
            }
            case USER_DEFINED -> -1000f;
            default -> 0f;
        };
    }

    /** Product token of each merge to its (first) rank. */
    private Map<String, Integer> mergeProducts() {
        Map<String, Integer> rank = new HashMap<>();
        List<String[]> merges = merges();
        for (int r = 0; r < merges.size(); r++) rank.putIfAbsent(merges.get(r)[0] + merges.get(r)[1], r);
        return rank;
    }

    // ---- GLM remote code: tokenizer.model only ----

    /** ChatGLMModel.set_vocab (tiktoken, GLM-4) or set_vocab_chatglm3 (SentencePiece); see {@link GlmTokenizerModelVocab}. */
    private void glmTokenizerModel(Path model) {
        GlmTokenizerModelVocab.Vocab v;
        if (ai.autoglm.core.tokenizer.TokenizerModelFile.isTiktoken(model)) {
            // set_vocab: hparams.get("padded_vocab_size", hparams["vocab_size"])
            JsonNode size = config.hasNonNull("padded_vocab_size") ? config.get("padded_vocab_size") : config.get("vocab_size");
            if (size == null || !size.canConvertToInt() || size.asInt() <= 0) {
                throw new ModelFormatException(dir.resolve(HfCheckpoint.CONFIG), "padded_vocab_size (or vocab_size) is missing or not a positive integer");
            }
            v = GlmTokenizerModelVocab.fromTiktoken(model, size.asInt());
        } else {
            // set_vocab_chatglm3: hparams.get("padded_vocab_size", len(tokenizer.get_vocab()))
            JsonNode size = config.get("padded_vocab_size");
            if (size != null && (!size.canConvertToInt() || size.asInt() <= 0)) {
                throw new ModelFormatException(dir.resolve(HfCheckpoint.CONFIG), "padded_vocab_size is not a positive integer");
            }
            v = GlmTokenizerModelVocab.fromSentencePiece(model, size == null ? null : size.asInt());
        }
        out.put(GgufKeys.TOKENIZER_MODEL, GgufValue.string(v.model()));
        out.put(GgufKeys.TOKENIZER_PRE, GgufValue.string(v.pre()));
        out.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.array(GgufValueType.STRING, v.tokens()));
        if (v.scores() != null) out.put(GgufKeys.TOKENIZER_SCORES, GgufValue.array(GgufValueType.FLOAT32, v.scores()));
        out.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.array(GgufValueType.INT32, v.types()));
        if (v.merges() != null) {
            // SpecialVocab(load_merges=False) with .merges set to the recovered list; eos/eot/unk from the added vocab
            specialVocab(v.merges(), null, v.addedVocab());
        } else {
            // SpecialVocab(n_vocab=len(tokens)): no merges, no GLM eos/eot/unk overrides
            specialVocab(null, v.tokens().size(), null);
        }
    }

    // ---- shared ----

    /** model.vocab, id -> token. */
    private Map<Integer, String> baseVocab() {
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (!vocab.isObject()) {
            throw new ModelFormatException(tokenizerFile, "model.vocab is not an object of token -> id");
        }
        Map<Integer, String> byId = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new ModelFormatException(tokenizerFile, "bad id for token '" + e.getKey() + "'");
            }
            String prev = byId.put(e.getValue().asInt(), e.getKey());
            if (prev != null) {
                throw new ModelFormatException(tokenizerFile, "tokens '" + prev + "' and '" + e.getKey() + "' share id " + e.getValue().asInt());
            }
        }
        return byId;
    }

    /** added_tokens, id -> entry. */
    private Map<Integer, JsonNode> addedTokens() {
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode a : tokenizer.path("added_tokens")) {
            if (!a.path("id").canConvertToInt() || a.path("id").asInt() < 0 || !a.path("content").isTextual()) {
                throw new ModelFormatException(tokenizerFile, "bad added_tokens entry " + a);
            }
            added.put(a.get("id").asInt(), a);
        }
        return added;
    }

    /** model.merges as pairs; both the "a b" string form and the [a, b] form of transformers >= 4.45. */
    private List<String[]> merges() {
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : tokenizer.path("model").path("merges")) {
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new ModelFormatException(tokenizerFile, "malformed merge '" + s + "'");
                merges.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                merges.add(new String[]{m.get(0).asText(), m.get(1).asText()});
            } else {
                throw new ModelFormatException(tokenizerFile, "unknown tokenizer merges format: " + m);
            }
        }
        return merges;
    }

    /**
     * gguf-py vocab.py SpecialVocab: merges (gpt2 only), special token ids from tokenizer_config.json's
     * {@code <type>_token} (looked up among added_tokens) then config.json's {@code <type>_token_id}, add_bos/add_eos
     * from a TemplateProcessing post-processor then tokenizer_config.json's {@code add_<type>_token}, and the chat
     * template (tokenizer_config.json, else chat_template.jinja / chat_template.json).
     */
    private void specialVocab(List<String> merges, Integer nVocab, Map<String, Integer> glmAddedVocab) {
        if (merges != null && !merges.isEmpty()) out.put(GgufKeys.TOKENIZER_MERGES, GgufValue.array(GgufValueType.STRING, merges));
        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<String, Boolean> add = new LinkedHashMap<>();
        JsonNode tc = tokenizerConfig;
        String bosContent = tc == null ? null : tokenContent(tc.get("bos_token"));
        String eosContent = tc == null ? null : tokenContent(tc.get("eos_token"));
        // Crude TemplateProcessing parsing, as the reference does: a leading special token that is the BOS means add_bos.
        JsonNode post = tokenizer.get("post_processor");
        if (post != null && post.isObject()) {
            List<JsonNode> procs = new ArrayList<>();
            if (post.has("processors")) post.get("processors").forEach(procs::add);
            else procs.add(post);
            for (JsonNode p : procs) {
                if (!"TemplateProcessing".equals(p.path("type").asText())) continue;
                JsonNode single = p.path("single");
                if (single.size() > 1) {
                    String first = single.get(0).path("SpecialToken").path("id").asText(null);
                    if (first != null) {
                        if (tc == null) bosContent = first;
                        add.put("bos", first.equals(bosContent));
                    }
                    String last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                    if (last != null) {
                        if (tc == null) eosContent = last;
                        add.put("eos", last.equals(eosContent));
                    }
                }
            }
        }
        if (tc != null) {
            for (String typ : SPECIAL_KEYS.keySet()) {
                JsonNode flag = tc.get("add_" + typ + "_token");
                if (flag != null && flag.isBoolean()) add.put(typ, flag.asBoolean());
                String content = tokenContent(tc.get(typ + "_token"));
                if (content == null) continue;
                for (JsonNode a : tokenizer.path("added_tokens")) {
                    if (content.equals(a.path("content").asText())) {
                        setSpecial(ids, typ, a.path("id"), nVocab);
                        break;
                    }
                }
            }
        }
        for (String typ : SPECIAL_KEYS.keySet()) setSpecial(ids, typ, config.get(typ + "_token_id"), nVocab);
        if (glmAddedVocab != null) glmSpecials(ids, nVocab, glmAddedVocab);
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            out.put(SPECIAL_KEYS.get(e.getKey()), GgufValue.uint32(e.getValue()));
        }
        for (Map.Entry<String, Boolean> e : add.entrySet()) {
            // GGUFWriter has handlers for add_bos/add_eos/add_sep only
            if (List.of("bos", "eos", "sep").contains(e.getKey())) {
                out.put("tokenizer.ggml.add_" + e.getKey() + "_token", GgufValue.bool(e.getValue()));
            }
        }
        chatTemplate(tc);
    }

    private boolean isGlm() {
        return ggufArch.equals("chatglm") || ggufArch.equals("glm4");
    }

    /**
     * ChatGLMModel.set_vocab / Glm4Model.set_vocab: eos and unk are {@code <|endoftext|>}, eot is {@code <|user|>} (the
     * turn ends when the model starts the next user turn), and for glm4 bos is {@code <|endoftext|>} too; each only when
     * not already set from the tokenizer files (SpecialVocab._set_special_token keeps the first value).
     */
    private void glmSpecials(Map<String, Integer> ids, Integer nVocab, Map<String, Integer> addedVocab) {
        for (String needed : List.of("<|endoftext|>", "<|user|>")) {
            if (!addedVocab.containsKey(needed)) {
                throw new ModelFormatException(tokenizerFile, "GLM vocabulary has no added token " + needed);
            }
        }
        setSpecial(ids, "eos", addedVocab.get("<|endoftext|>"), nVocab);
        setSpecial(ids, "eot", addedVocab.get("<|user|>"), nVocab);
        setSpecial(ids, "unk", addedVocab.get("<|endoftext|>"), nVocab);
        if (ggufArch.equals("glm4")) setSpecial(ids, "bos", addedVocab.get("<|endoftext|>"), nVocab);
    }

    /** tokenizer.json added_tokens as content to id (the first entry of a content wins), i.e. get_added_vocab(). */
    private Map<String, Integer> addedVocab() {
        Map<String, Integer> byContent = new LinkedHashMap<>();
        for (JsonNode a : tokenizer.path("added_tokens")) {
            if (a.path("id").canConvertToInt()) byContent.putIfAbsent(a.path("content").asText(), a.path("id").asInt());
        }
        return byContent;
    }

    /** tokenizer.json merges as GGUF merge lines: spaces inside a part written as U+0120 (chr(ord(' ') + 256)). */
    private List<String> tokenizerJsonMerges() {
        List<String> lines = new ArrayList<>();
        for (String[] m : merges()) lines.add(m[0].replace(" ", "\u0120") + " " + m[1].replace(" ", "\u0120"));
        return lines;
    }

    private void setSpecial(Map<String, Integer> ids, String typ, Integer id, Integer nVocab) {
        if (id == null) return; // (the reference raises KeyError for a missing GLM token; checked by the caller)
        if (id < 0) throw new ModelFormatException(dir, "invalid value for special token type " + typ + ": " + id);
        if (nVocab != null && id >= nVocab) return;
        ids.putIfAbsent(typ, id);
    }

    /** SpecialVocab._set_special_token: ints only, first one wins, ids at or past n_vocab skipped. */
    private void setSpecial(Map<String, Integer> ids, String typ, JsonNode id, Integer nVocab) {
        if (id == null || !id.isIntegralNumber() || !id.canConvertToInt()) return;
        setSpecial(ids, typ, id.asInt(), nVocab);
    }

    private static String tokenContent(JsonNode entry) {
        if (entry == null) return null;
        if (entry.isTextual()) return entry.asText();
        if (entry.isObject() && entry.path("content").isTextual()) return entry.get("content").asText();
        return null;
    }

    private void chatTemplate(JsonNode tc) {
        JsonNode template = tc == null ? null : tc.get("chat_template");
        if (template == null || template.isNull()) {
            Path jinja = dir.resolve("chat_template.jinja");
            Path json = dir.resolve("chat_template.json");
            try {
                if (Files.isRegularFile(jinja)) {
                    if (Files.size(jinja) > HfCheckpoint.MAX_JSON_BYTES) throw new ModelFormatException(jinja, "too large");
                    out.put(GgufKeys.CHAT_TEMPLATE, GgufValue.string(Files.readString(jinja)));
                    return;
                }
            } catch (java.io.IOException e) {
                throw new ModelFormatException(jinja, "cannot read: " + e, e);
            }
            if (Files.isRegularFile(json)) template = HfCheckpoint.readJson(json).get("chat_template");
        }
        if (template == null || template.isNull()) return;
        if (template.isTextual()) {
            out.put(GgufKeys.CHAT_TEMPLATE, GgufValue.string(template.asText()));
        } else if (template.isArray()) {
            // GGUFWriter.add_chat_template with a list: "default" -> tokenizer.chat_template, others by name
            List<String> names = new ArrayList<>();
            for (JsonNode t : template) {
                String name = t.path("name").asText(null), text = t.path("template").asText(null);
                if (name == null || text == null) continue;
                String key = name.equals("default") ? GgufKeys.CHAT_TEMPLATE : "tokenizer.chat_template." + name;
                out.put(key, GgufValue.string(text));
                if (!name.equals("default")) names.add(name);
            }
            if (!names.isEmpty()) out.put("tokenizer.chat_templates", GgufValue.array(GgufValueType.STRING, names));
        }
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
