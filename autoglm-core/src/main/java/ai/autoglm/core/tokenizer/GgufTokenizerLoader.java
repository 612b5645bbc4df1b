package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds a {@link BpeTokenizer} from GGUF tokenizer metadata (ggml-org/ggml docs/gguf.md "Tokenizer";
 * llama.cpp src/llama-vocab.cpp llama_vocab::impl::load): {@code tokenizer.ggml.model} "gpt2" (byte-level
 * BPE with {@code merges} and a {@code pre} name choosing the split regex) or "llama" (SentencePiece BPE
 * with {@code scores}).
 */
final class GgufTokenizerLoader {
    // gguf-py TokenType / llama.cpp llama_token_type
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    private final Path file;
    private final Map<String, GgufValue> md;

    private GgufTokenizerLoader(Path file, Map<String, GgufValue> md) {
        this.file = file;
        this.md = md;
    }

    static Tokenizer load(Map<String, GgufValue> metadata, Path file) {
        return new GgufTokenizerLoader(file, metadata).build();
    }

    private ModelFormatException bad(String problem) {
        return new ModelFormatException(file, problem);
    }

    /** Split rules llama.cpp uses for a {@code tokenizer.ggml.pre} name (llm_tokenizer_bpe constructor). */
    private record PreRules(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean nfc, boolean tiktoken,
                            boolean noBos) {
        PreRules(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean nfc) {
            this(regexes, ignoreMerges, addBos, nfc, false, false);
        }
    }

    private PreRules preRules(String pre) {
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral" ->
                    new PreRules(List.of(TextRules.LLAMA3_REGEX), true, true, false);
            case "dbrx", "smaug-bpe" -> new PreRules(List.of(TextRules.LLAMA3_REGEX), false, false, false);
            // llama-vocab.cpp: "glm4" and "chatglm-bpe" are LLAMA_VOCAB_PRE_TYPE_CHATGLM4 with special_bos_id null
            case "glm4" -> new PreRules(List.of(TextRules.LLAMA3_REGEX), false, false, false, false, true);
            // GLM-4 (glm-4-9b-chat) is a tiktoken vocabulary: convert_hf_to_gguf.py set_vocab_chatglm4 writes the
            // tokens in rank order (id = rank) with merges rebuilt by replaying BPE per token. llama.cpp
            // (LLAMA_VOCAB_PRE_TYPE_CHATGLM4) splits with cl100k's regex and merges by that list; we encode as
            // tiktoken does (see TiktokenLoader), so a GGUF file and the original tokenizer.model give the same ids.
            case "chatglm-bpe" -> new PreRules(List.of(TiktokenLoader.GLM4_PATTERN), true, false, false, true, true);
            // Qwen2's tokenizer.json NFC-normalizes before splitting; llama.cpp skips that step, which
            // only matters for text that is not already NFC. We follow the model's own tokenizer.
            case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2" ->
                    new PreRules(List.of(TextRules.QWEN2_REGEX), false, false, true);
            case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais" ->
                    new PreRules(List.of(TextRules.GPT2_REGEX), false, false, false);
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" ->
                    new PreRules(List.of("\\p{N}", TextRules.GPT2_REGEX), false, false, false);
            default -> throw bad("unsupported tokenizer.ggml.pre '" + pre + "'");
        };
    }

    /**
     * A WordPiece vocabulary (llama.cpp LLAMA_VOCAB_TYPE_WPM): gguf-py SpecialVocab stores [CLS] as
     * {@code tokenizer.ggml.cls_token_id} and [SEP] as {@code tokenizer.ggml.seperator_token_id} (sic).
     */
    private Tokenizer bert() {
        List<String> tokens = stringList(GgufKeys.TOKENIZER_TOKENS, true);
        int[] types = new int[tokens.size()];
        Arrays.fill(types, NORMAL);
        List<Object> typeList = list(GgufKeys.TOKENIZER_TOKEN_TYPE, false);
        if (typeList != null) {
            if (typeList.size() != types.length) {
                throw bad("tokenizer.ggml.token_type has " + typeList.size() + " entries for " + types.length + " tokens");
            }
            for (int i = 0; i < types.length; i++) types[i] = number(typeList.get(i), GgufKeys.TOKENIZER_TOKEN_TYPE).intValue();
        }
        for (int i = 0; i < types.length; i++) {
            if (tokens.get(i) == null) throw bad("tokenizer.ggml.tokens[" + i + "] is not a string");
        }
        int cls = (int) longValue(GgufKeys.TOKENIZER_CLS_ID, longValue(GgufKeys.TOKENIZER_BOS_ID, -1));
        int sep = (int) longValue(GgufKeys.TOKENIZER_SEP_ID, longValue(GgufKeys.TOKENIZER_EOS_ID, -1));
        int unk = (int) longValue(GgufKeys.TOKENIZER_UNK_ID, -1);
        return WordPieceLoader.fromGgufTokens(file, tokens, types, unk, cls, sep);
    }

    private Tokenizer build() {
        String model = string(GgufKeys.TOKENIZER_MODEL, null);
        if (model == null) {
            throw bad("tokenizer.ggml.model is missing");
        }
        if ("bert".equals(model)) {
            return bert();
        }
        boolean spm = switch (model) {
            case "llama" -> true;
            case "gpt2" -> false;
            default -> throw bad("unsupported tokenizer model '" + model + "' (supported: gpt2, llama, bert)");
        };
        List<String> tokenList = stringList(GgufKeys.TOKENIZER_TOKENS, true);
        int n = tokenList.size();
        String[] tokens = tokenList.toArray(new String[0]);
        int[] types = new int[n];
        Arrays.fill(types, NORMAL);
        List<Object> typeList = list(GgufKeys.TOKENIZER_TOKEN_TYPE, false);
        if (typeList != null) {
            if (typeList.size() != n) {
                throw bad("tokenizer.ggml.token_type has " + typeList.size() + " entries for " + n + " tokens");
            }
            for (int i = 0; i < n; i++) {
                types[i] = number(typeList.get(i), GgufKeys.TOKENIZER_TOKEN_TYPE).intValue();
            }
        }

        // llama.cpp: token_to_id[text] = id, the last duplicate wins.
        Map<String, Integer> modelVocab = new HashMap<>(n * 2);
        List<AddedToken> added = new ArrayList<>();
        boolean[] special = new boolean[n];
        byte[][] tokenBytes = new byte[n][];
        for (int i = 0; i < n; i++) {
            String t = tokens[i];
            if (t == null) {
                throw bad("tokenizer.ggml.tokens[" + i + "] is not a string");
            }
            int type = types[i];
            switch (type) {
                case CONTROL, UNKNOWN, USER_DEFINED -> {
                    // Matched verbatim in the text before BPE (llama.cpp tokenizer_st_partition): control and
                    // unknown tokens only when parsing special tokens, user-defined ones always.
                    boolean sp = type != USER_DEFINED;
                    special[i] = sp;
                    if (!t.isEmpty()) {
                        added.add(new AddedToken(t, i, sp, false, false));
                    }
                    tokenBytes[i] = t.getBytes(StandardCharsets.UTF_8);
                    if (type == UNKNOWN) {
                        modelVocab.put(t, i);
                    }
                }
                case UNUSED -> tokenBytes[i] = t.getBytes(StandardCharsets.UTF_8);
                case BYTE -> {
                    modelVocab.put(t, i);
                    tokenBytes[i] = byteToken(t, i);
                }
                default -> {
                    modelVocab.put(t, i);
                    tokenBytes[i] = spm ? t.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8) : ByteLevel.decode(t);
                }
            }
        }

        int bos = (int) longValue(GgufKeys.TOKENIZER_BOS_ID, spm ? 1 : -1);
        int eos = (int) longValue(GgufKeys.TOKENIZER_EOS_ID, spm ? 2 : -1);
        int unk = (int) longValue(GgufKeys.TOKENIZER_UNK_ID, spm ? 0 : -1);
        for (int id : new int[] {bos, eos, unk}) {
            if (id >= n) {
                throw bad("special token id " + id + " is outside the vocabulary of " + n);
            }
        }
        String pre = string(GgufKeys.TOKENIZER_PRE, "default");
        int[] glmPrefix = glmPrefix(pre, spm, tokens, types);
        if (spm) {
            boolean addSpacePrefix = bool(GgufKeys.TOKENIZER_ADD_SPACE_PREFIX, true);
            boolean addBos = bool(GgufKeys.TOKENIZER_ADD_BOS, true);
            int[] prefix = glmPrefix != null ? glmPrefix : addBos && bos >= 0 ? new int[] {bos} : new int[0];
            float[] scores = scores(n);
            MergeTable merges = spmMerges(tokens, types, scores, modelVocab);
            TextRules.Normalizer norm = s -> {
                // llama.cpp llama_vocab::impl::tokenize (SPM): prefix a space to each raw-text fragment that
                // starts the input or follows a special token, then escape spaces as U+2581.
                String t = addSpacePrefix && !s.isEmpty() ? " " + s : s;
                return t.replace(' ', '\u2581');
            };
            return new BpeTokenizer(new BpeTokenizer.Spec(BpeTokenizer.SymbolMode.CODE_POINT, tokens, tokenBytes, special,
                    modelVocab, merges, added, norm, TextRules.WHOLE, false, true, unk, false,
                    addSpacePrefix ? 1 : 0, bos, eos, prefix));
        }
        PreRules rules = preRules(pre);
        List<Pattern> patterns = new ArrayList<>();
        for (String r : rules.regexes()) {
            patterns.add(rules.tiktoken() ? TextRules.compileTiktoken(r) : TextRules.compile(r));
        }
        boolean addBos = bool(GgufKeys.TOKENIZER_ADD_BOS, rules.addBos());
        if (rules.noBos()) {
            bos = -1; // llama.cpp: special_bos_id = LLAMA_TOKEN_NULL for these pre-tokenizers
        }
        int[] prefix = glmPrefix != null ? glmPrefix : addBos && bos >= 0 ? new int[] {bos} : new int[0];
        MergeTable merges = rules.tiktoken() ? rankMerges(tokens, types, modelVocab)
                : bpeMerges(stringList(GgufKeys.TOKENIZER_MERGES, true), modelVocab);
        TextRules.Normalizer norm = rules.nfc() ? s -> java.text.Normalizer.normalize(s, Form.NFC) : null;
        return new BpeTokenizer(new BpeTokenizer.Spec(BpeTokenizer.SymbolMode.BYTE_LEVEL, tokens, tokenBytes, special,
                modelVocab, merges, added, norm, TextRules.regexSplit(patterns), rules.ignoreMerges(), false, unk, false,
                0, bos, eos, prefix));
    }

    /**
     * GLM vocabularies ({@code chatglm-bpe} from glm-4-9b-chat's tiktoken file, {@code glm4} from the -hf / 0414
     * tokenizer.json, {@code chatglm-spm} from ChatGLM3's SentencePiece file): the prompt prefix {@code [gMASK]<sop>}
     * ({@code [gMASK]sop} for ChatGLM3) that the HF tokenizers put before every encoding with special tokens, when the
     * vocabulary has both as control tokens; null for other vocabularies.
     * <p>Deliberately more than llama.cpp, which gives these vocabularies no BOS and no prefix and relies on the chat
     * template writing {@code [gMASK]<sop>} (llama-chat.cpp LLM_CHAT_TEMPLATE_CHATGLM_4, and the models' Jinja
     * templates): with the prefix here a plain completion from a GGUF file gets the same prompt tokens as from the HF
     * directory it was converted from, and the chat path is unchanged because a prompt that already starts with the
     * prefix does not get it twice ({@code Prompts}).
     */
    private static int[] glmPrefix(String pre, boolean spm, String[] tokens, int[] types) {
        boolean glm = spm ? pre.equals("chatglm-spm") : pre.equals("chatglm-bpe") || pre.equals("glm4");
        if (!glm) {
            return null;
        }
        int gmask = controlToken(tokens, types, "[gMASK]");
        int sop = controlToken(tokens, types, spm ? "sop" : "<sop>");
        return gmask >= 0 && sop >= 0 ? new int[] {gmask, sop} : new int[0];
    }

    private static int controlToken(String[] tokens, int[] types, String text) {
        for (int i = 0; i < tokens.length; i++) {
            if (types[i] == CONTROL && text.equals(tokens[i])) {
                return i;
            }
        }
        return -1;
    }

    private byte[] byteToken(String t, int id) {
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw bad("byte token " + id + " is '" + t + "', expected <0xXX>");
    }

    /** tiktoken's rule for a vocabulary stored in rank order: any pair merges into a normal token, lowest id first. */
    private static MergeTable rankMerges(String[] tokens, int[] types, Map<String, Integer> vocab) {
        int[] ranks = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            ranks[i] = types[i] == NORMAL ? i : -1;
        }
        return MergeTable.fromConcatenations(tokens, ranks, vocab);
    }

    /** Merge rules "a b" by rank (llama.cpp bpe_ranks); rules naming unknown tokens can never apply and are skipped. */
    private MergeTable bpeMerges(List<String> merges, Map<String, Integer> vocab) {
        MergeTable table = new MergeTable(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String m = merges.get(rank);
            int sp = m == null ? -1 : m.indexOf(' ', 1);
            if (sp < 0) {
                throw bad("tokenizer.ggml.merges[" + rank + "] is not two tokens separated by a space");
            }
            String a = m.substring(0, sp);
            String b = m.substring(sp + 1);
            Integer ia = vocab.get(a);
            Integer ib = vocab.get(b);
            Integer im = vocab.get(a + b);
            if (ia != null && ib != null && im != null) {
                table.putIfAbsent(ia, ib, rank, im);
            }
        }
        return table;
    }

    /**
     * SentencePiece BPE as llama.cpp's llm_tokenizer_spm_session runs it: any two adjacent symbols whose
     * concatenation is a normal vocabulary token may merge, the highest-scoring result first, leftmost on ties.
     */
    private static MergeTable spmMerges(String[] tokens, int[] types, float[] scores, Map<String, Integer> vocab) {
        boolean[] normal = new boolean[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            normal[i] = types[i] == NORMAL;
        }
        return MergeTable.fromConcatenations(tokens, MergeTable.ranksFromScores(scores, normal), vocab);
    }

    private float[] scores(int n) {
        float[] s = new float[n];
        List<Object> l = list(GgufKeys.TOKENIZER_SCORES, false);
        if (l == null) {
            return s;
        }
        if (l.size() != n) {
            throw bad("tokenizer.ggml.scores has " + l.size() + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            s[i] = number(l.get(i), GgufKeys.TOKENIZER_SCORES).floatValue();
            if (Float.isNaN(s[i])) {
                s[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return s;
    }

    // ---- typed metadata access; wrong types are file errors, never ClassCastExceptions ----

    private String string(String key, String def) {
        GgufValue v = md.get(key);
        if (v == null) {
            return def;
        }
        if (v.type() != GgufValueType.STRING || !(v.value() instanceof String s)) {
            throw bad(key + " should be a string but is " + v.type());
        }
        return s;
    }

    private long longValue(String key, long def) {
        GgufValue v = md.get(key);
        if (v == null) {
            return def;
        }
        if (!(v.value() instanceof Number num) || v.value() instanceof Float || v.value() instanceof Double) {
            throw bad(key + " should be an integer but is " + v.type());
        }
        return num.longValue();
    }

    private boolean bool(String key, boolean def) {
        GgufValue v = md.get(key);
        if (v == null) {
            return def;
        }
        if (!(v.value() instanceof Boolean b)) {
            throw bad(key + " should be a bool but is " + v.type());
        }
        return b;
    }

    private List<Object> list(String key, boolean required) {
        GgufValue v = md.get(key);
        if (v == null) {
            if (required) {
                throw bad(key + " is missing");
            }
            return null;
        }
        if (v.type() != GgufValueType.ARRAY || !(v.value() instanceof List<?>)) {
            throw bad(key + " should be an array but is " + v.type());
        }
        return v.asList();
    }

    private List<String> stringList(String key, boolean required) {
        List<Object> l = list(key, required);
        if (l == null) {
            return null;
        }
        List<String> out = new ArrayList<>(l.size());
        for (Object o : l) {
            if (!(o instanceof String s)) {
                throw bad(key + " should hold strings");
            }
            out.add(s);
        }
        return out;
    }

    private Number number(Object o, String key) {
        if (!(o instanceof Number num)) {
            throw bad(key + " should hold numbers");
        }
        return num;
    }
}
