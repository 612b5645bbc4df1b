package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * GLM-4's tokenizer as THUDM/glm-4-9b-chat {@code tokenization_chatglm.py} (ChatGLM4Tokenizer) builds it: a
 * tiktoken rank file {@code tokenizer.model} (one {@code base64(token bytes) rank} line per token), the split
 * regex {@code pat_str} hard-coded in that class, and fourteen special tokens numbered from the number of ranks
 * on. Encoding is tiktoken's (openai/tiktoken src/lib.rs): split with the regex, a piece that is itself a token
 * becomes that token, anything else is byte-pair merged by rank. Expressed for {@link BpeTokenizer} as a
 * byte-level vocabulary with "whole piece first" ({@code ignoreMerges}) and merge-any-pair rules
 * ({@link MergeTable#fromConcatenations}), so the same vocabulary can be written to GGUF as a {@code gpt2}
 * model with pre-tokenizer {@code chatglm-bpe}, as llama.cpp convert_hf_to_gguf.py set_vocab_chatglm4 does.
 */
final class TiktokenLoader {
    /**
     * ChatGLM4Tokenizer's pat_str. It is the same string as cl100k_base's pat_str and Llama 3's split regex
     * (llama.cpp LLAMA_VOCAB_PRE_TYPE_CHATGLM4 spells the case-insensitive part as {@code '[sS]|'[tT]...}).
     */
    static final String GLM4_PATTERN = TextRules.LLAMA3_REGEX;

    /** ChatGLM4Tokenizer.special_tokens, in id order from len(mergeable_ranks). */
    static final List<String> CHATGLM4_SPECIAL_TOKENS = List.of("<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]",
            "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
            "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>");

    private static final int MAX_RANK = 16 * 1024 * 1024;
    private static final long MAX_FILE_BYTES = 256L * 1024 * 1024; // GLM-4's file is ~2.6 MB
    private static final Pattern RANK_LINE = Pattern.compile("[A-Za-z0-9+/]+=*[ \t]+\\d+\\s*");

    private final Path file;

    private TiktokenLoader(Path file) {
        this.file = file;
    }

    /** Whether {@code model} starts like a tiktoken rank file (its first line is "base64 rank"). */
    static boolean looksLikeRankFile(Path model) {
        try (InputStream in = Files.newInputStream(model)) {
            byte[] head = in.readNBytes(512);
            int end = 0;
            while (end < head.length && head[end] != '\n') {
                end++;
            }
            String first = new String(head, 0, end, StandardCharsets.ISO_8859_1);
            return RANK_LINE.matcher(first).matches();
        } catch (IOException e) {
            throw new ModelFormatException(model, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * @param model  the rank file
     * @param config tokenizer_config.json (empty object when absent); with {@code tokenizer_class}
     *               ChatGLM4Tokenizer the GLM-4 special tokens are added, and {@code added_tokens_decoder}
     *               entries are added (or checked against the GLM-4 ones) in any case
     */
    static Tokenizer load(Path model, JsonNode config, Path configFile) {
        return build(read(model, config, configFile));
    }

    /**
     * The vocabulary as ChatGLM4Tokenizer holds it: {@code mergeable_ranks} (rank to token bytes, in rank order) and
     * the added special tokens (id to text, with HF's {@code special} flag).
     */
    record Vocabulary(java.util.SortedMap<Integer, byte[]> ranks, java.util.SortedMap<Integer, String> specials,
                      Map<Integer, Boolean> specialFlag, boolean chatGlm4Tokenizer) {
        boolean isSpecial(int id) {
            return specialFlag.getOrDefault(id, true);
        }
    }

    /** Reads and checks the rank file and the special tokens, refusing what tiktoken or ChatGLM4Tokenizer would. */
    static Vocabulary read(Path model, JsonNode config, Path configFile) {
        return new TiktokenLoader(model).readVocabulary(config, configFile);
    }

    private ModelFormatException bad(String problem) {
        return new ModelFormatException(file, problem);
    }

    private Vocabulary readVocabulary(JsonNode config, Path configFile) {
        Map<Integer, byte[]> ranks = readRanks();
        int n = ranks.size();

        // Special tokens: ChatGLM4Tokenizer numbers them from len(mergeable_ranks); HF then registers the
        // added_tokens_decoder entries of tokenizer_config.json, which name the same ids for real GLM-4 files.
        Map<Integer, String> specials = new HashMap<>();
        boolean glm4Class = "ChatGLM4Tokenizer".equals(config.path("tokenizer_class").asText());
        if (glm4Class) {
            for (int i = 0; i < CHATGLM4_SPECIAL_TOKENS.size(); i++) {
                specials.put(n + i, CHATGLM4_SPECIAL_TOKENS.get(i));
            }
        }
        Map<Integer, Boolean> specialFlag = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.path("added_tokens_decoder").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new ModelFormatException(configFile, "added_tokens_decoder key '" + e.getKey() + "' is not an id");
            }
            String content = e.getValue().path("content").asText("");
            if (id < 0 || id >= MAX_RANK || content.isEmpty()) {
                throw new ModelFormatException(configFile, "added_tokens_decoder['" + e.getKey()
                        + "'] needs an id in [0, " + MAX_RANK + ") and a non-empty content");
            }
            String known = specials.get(id);
            if (known != null && !known.equals(content)) {
                throw new ModelFormatException(configFile, "added_tokens_decoder['" + id + "'] is '" + content
                        + "' but ChatGLM4Tokenizer puts '" + known + "' at that id");
            }
            specials.put(id, content);
            specialFlag.put(id, e.getValue().path("special").asBoolean(true));
        }
        for (int id : specials.keySet()) {
            if (ranks.containsKey(id)) {
                throw bad("special token '" + specials.get(id) + "' has id " + id + ", which is also a rank in this file");
            }
        }
        boolean[] singleByte = new boolean[256];
        for (byte[] t : ranks.values()) {
            if (t.length == 1) {
                singleByte[t[0] & 0xFF] = true;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!singleByte[b]) {
                // tiktoken's byte_pair_merge looks up every single byte; a file without one cannot encode all text.
                throw bad(String.format("no token for the single byte 0x%02X (tiktoken needs all 256)", b));
            }
        }
        return new Vocabulary(new java.util.TreeMap<>(ranks), new java.util.TreeMap<>(specials), specialFlag, glm4Class);
    }

    private static Tokenizer build(Vocabulary v) {
        Map<Integer, byte[]> ranks = v.ranks();
        Map<Integer, String> specials = v.specials();
        int n = ranks.size();
        int maxRank = v.ranks().isEmpty() ? -1 : v.ranks().lastKey();

        int size = Math.max(maxRank, specials.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1)) + 1;
        String[] tokens = new String[size];
        byte[][] tokenBytes = new byte[size][];
        boolean[] special = new boolean[size];
        int[] rankOf = new int[size];
        java.util.Arrays.fill(rankOf, -1);
        Map<String, Integer> modelVocab = new HashMap<>(n * 2);
        for (Map.Entry<Integer, byte[]> e : ranks.entrySet()) {
            int id = e.getKey();
            tokens[id] = ByteLevel.encode(e.getValue());
            tokenBytes[id] = e.getValue();
            rankOf[id] = id; // tiktoken: the token id is its rank
            modelVocab.put(tokens[id], id);
        }
        List<AddedToken> added = new ArrayList<>();
        for (Map.Entry<Integer, String> e : specials.entrySet()) {
            int id = e.getKey();
            boolean sp = v.isSpecial(id);
            tokens[id] = e.getValue();
            tokenBytes[id] = e.getValue().getBytes(StandardCharsets.UTF_8);
            special[id] = sp;
            added.add(new AddedToken(e.getValue(), id, sp, false, false));
        }
        MergeTable merges = MergeTable.fromConcatenations(tokens, rankOf, modelVocab);
        int eos = indexOf(specials, "<|endoftext|>"); // ChatGLM4Tokenizer.eos_token_id
        // ChatGLM4Tokenizer.build_inputs_with_special_tokens puts get_prefix_tokens() = [gMASK], <sop> first.
        int gmask = indexOf(specials, "[gMASK]");
        int sop = indexOf(specials, "<sop>");
        int[] prefix = v.chatGlm4Tokenizer() && gmask >= 0 && sop >= 0
                ? new int[] {gmask, sop} : new int[0];
        TextRules.PreTokenizer split = TextRules.regexSplit(List.of(TextRules.compileTiktoken(GLM4_PATTERN)));
        return new BpeTokenizer(new BpeTokenizer.Spec(BpeTokenizer.SymbolMode.BYTE_LEVEL, tokens, tokenBytes, special,
                modelVocab, merges, added, null, split, true, false, -1, false, 0, -1, eos, prefix));
    }

    private static int indexOf(Map<Integer, String> specials, String content) {
        for (Map.Entry<Integer, String> e : specials.entrySet()) {
            if (e.getValue().equals(content)) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Parses the rank file as tiktoken's load_tiktoken_bpe does, refusing what tiktoken's CoreBPE would refuse. */
    private Map<Integer, byte[]> readRanks() {
        byte[] data;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw bad("file is " + Files.size(file) + " bytes, more than any rank file (" + MAX_FILE_BYTES + ")");
            }
            data = ai.autoglm.core.format.LoadedFiles.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        String text = new String(data, StandardCharsets.ISO_8859_1); // base64 and digits are ASCII
        Map<Integer, byte[]> ranks = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        Base64.Decoder b64 = Base64.getDecoder();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            String t = line.strip();
            if (t.isEmpty()) {
                continue;
            }
            String[] parts = t.split("[ \t]+");
            if (parts.length != 2) {
                throw bad("line " + lineNo + ": expected 'base64(token) rank', got '" + abbreviate(t) + "'");
            }
            byte[] token;
            try {
                token = b64.decode(parts[0]);
            } catch (IllegalArgumentException e) {
                throw bad("line " + lineNo + ": '" + abbreviate(parts[0]) + "' is not base64");
            }
            int rank;
            try {
                rank = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                rank = -1;
            }
            if (rank < 0 || rank >= MAX_RANK) {
                throw bad("line " + lineNo + ": rank '" + abbreviate(parts[1]) + "' is not in [0, " + MAX_RANK + ")");
            }
            if (token.length == 0) {
                throw bad("line " + lineNo + ": empty token");
            }
            if (ranks.putIfAbsent(rank, token) != null) {
                throw bad("line " + lineNo + ": rank " + rank + " appears twice");
            }
            Integer before = seen.put(ByteLevel.encode(token), lineNo);
            if (before != null) {
                throw bad("line " + lineNo + ": the same token as line " + before);
            }
        }
        if (ranks.isEmpty()) {
            throw bad("no ranks in this file");
        }
        return ranks;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
