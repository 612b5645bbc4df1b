package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tokenizer.TokenizerModelFile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The GGUF vocabulary of THUDM's remote-code GLM checkpoints, whose only tokenizer file is {@code tokenizer.model},
 * as llama.cpp's convert_hf_to_gguf.py {@code ChatGLMModel} writes it:
 * <ul>
 *   <li>glm-4-9b-chat (tiktoken ranks, ChatGLM4Tokenizer): {@code ChatGLMModel.set_vocab} as added with GLM-4 support
 *       (llama.cpp PR #8031, 2024): tokens in id order as GPT-2 byte-level strings ({@code token_bytes_to_string}),
 *       the added tokens CONTROL (HF {@code special}) or USER_DEFINED, unassigned ids up to {@code padded_vocab_size}
 *       {@code [PADi]} UNUSED; merges recovered from the ranks by replaying tiktoken's BPE on each token up to its own
 *       rank ({@code ChatGLMModel.bpe(mergeable_ranks, token, max_rank=rank)}, the parts joined by spaces); model
 *       {@code gpt2}, pre {@code chatglm-bpe}. (Current llama.cpp takes this path through {@code get_vocab_base} and
 *       {@code SpecialVocab(load_merges=True)}, which finds no merges in a directory without tokenizer.json: llama.cpp
 *       issue/PR #13058 "cannot find tokenizer merges"; the 2024 code is the one that gives a working file.)</li>
 *   <li>ChatGLM3-6B (SentencePiece, ChatGLMTokenizer): {@code ChatGLMModel.set_vocab_chatglm3}: for every id below
 *       {@code padded_vocab_size}, the piece (ids 0, 1, 2 written {@code <unk>}, {@code <bos>}, {@code <eos>}) with its
 *       score and its sentencepiece type (unknown, control, unused, byte, else normal); past the pieces, SPTokenizer's
 *       special tokens CONTROL with score 0 and the remaining ids {@code [PADi]} UNUSED; model {@code llama}, pre
 *       {@code chatglm-spm}.</li>
 * </ul>
 * The reference picks the ChatGLM3 path when {@code _name_or_path} names THUDM/chatglm3-6b; here the kind of
 * {@code tokenizer.model} decides, which is the same for the real checkpoints and also works for renamed copies.
 */
final class GlmTokenizerModelVocab {
    /** gguf-py TokenType. */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    /** The reference asserts 2 to 7 parts per recovered merge (GLM-4's vocabulary has tokens BPE cannot build in one step). */
    static final int MAX_MERGE_PARTS = 7;

    /** What goes into the GGUF: scores only for SentencePiece, merges only for tiktoken. */
    record Vocab(String model, String pre, List<String> tokens, List<Integer> types, List<Float> scores,
                 List<String> merges, Map<String, Integer> addedVocab) {
    }

    private GlmTokenizerModelVocab() {
    }

    static Vocab fromTiktoken(Path model, int vocabSize) {
        TokenizerModelFile.Tiktoken t = TokenizerModelFile.readTiktoken(model);
        SortedMap<Integer, byte[]> ranks = t.ranks();
        Map<Integer, String> byId = new HashMap<>();
        for (Map.Entry<Integer, byte[]> e : ranks.entrySet()) byId.put(e.getKey(), TokenizerModelFile.byteLevel(e.getValue()));
        Map<String, Integer> added = new LinkedHashMap<>();
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        for (TokenizerModelFile.Special s : t.added()) {
            added.put(s.content(), s.id());
            addedSpecial.put(s.id(), s.special());
            byId.put(s.id(), s.content()); // {**vocab, **added_vocab}: an added token wins its id
        }
        int maxId = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        if (maxId >= vocabSize) {
            throw new ModelFormatException(model, "token id " + maxId + " is not below config.json padded_vocab_size " + vocabSize);
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        List<Integer> types = new ArrayList<>(vocabSize);
        for (int i = 0; i < vocabSize; i++) {
            String tok = byId.get(i);
            if (tok == null) {
                tokens.add("[PAD" + i + "]");
                types.add(UNUSED);
            } else {
                tokens.add(tok);
                types.add(addedSpecial.containsKey(i) ? (addedSpecial.get(i) ? CONTROL : USER_DEFINED) : NORMAL);
            }
        }
        return new Vocab("gpt2", "chatglm-bpe", tokens, types, null, recoverMerges(ranks, model), added);
    }

    /**
     * One merge line per multi-byte token, in rank order: the token's bytes merged by tiktoken's rule (lowest-ranked
     * adjacent pair first) while the pair's rank is below the token's own, then the parts as byte-level strings.
     */
    static List<String> recoverMerges(SortedMap<Integer, byte[]> ranks, Path file) {
        Map<String, Integer> rankOf = new HashMap<>(ranks.size() * 2);
        for (Map.Entry<Integer, byte[]> e : ranks.entrySet()) rankOf.put(latin1(e.getValue()), e.getKey());
        List<String> merges = new ArrayList<>();
        for (Map.Entry<Integer, byte[]> e : ranks.entrySet()) {
            byte[] token = e.getValue();
            if (token.length == 1) continue;
            List<String> parts = bpe(rankOf, latin1(token), e.getKey());
            if (parts.size() < 2 || parts.size() > MAX_MERGE_PARTS) {
                throw new ModelFormatException(file, "rank " + e.getKey() + ": BPE over lower ranks leaves " + parts.size()
                        + " parts (llama.cpp's converter accepts 2 to " + MAX_MERGE_PARTS + ")");
            }
            StringBuilder line = new StringBuilder();
            for (String p : parts) {
                if (!line.isEmpty()) line.append(' ');
                line.append(TokenizerModelFile.byteLevel(p.getBytes(StandardCharsets.ISO_8859_1)));
            }
            merges.add(line.toString());
        }
        return merges;
    }

    /** tiktoken's byte_pair_merge on one token, stopping before any merge ranked at or above {@code maxRank}. */
    private static List<String> bpe(Map<String, Integer> rankOf, String token, int maxRank) {
        List<String> parts = new ArrayList<>(token.length());
        for (int i = 0; i < token.length(); i++) parts.add(token.substring(i, i + 1));
        while (true) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = rankOf.get(parts.get(i) + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    best = i;
                    bestRank = r;
                }
            }
            if (best < 0 || bestRank >= maxRank) return parts;
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
    }

    /** Bytes as a string of chars 0-255, so byte sequences can be map keys and concatenated. */
    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** @param paddedVocabSize config.json padded_vocab_size, or null to use the tokenizer's own size */
    static Vocab fromSentencePiece(Path model, Integer paddedVocabSize) {
        TokenizerModelFile.SentencePiece sp = TokenizerModelFile.readSentencePiece(model);
        List<TokenizerModelFile.Piece> pieces = sp.pieces();
        int nPieces = pieces.size();
        List<String> specials = TokenizerModelFile.CHATGLM3_SPECIAL_TOKENS;
        int vocabSize = paddedVocabSize != null ? paddedVocabSize : nPieces + specials.size();
        if (nPieces + specials.size() > vocabSize) {
            throw new ModelFormatException(model, (nPieces + specials.size()) + " tokens (pieces and ChatGLM3's special tokens)"
                    + " do not fit config.json padded_vocab_size " + vocabSize);
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        List<Integer> types = new ArrayList<>(vocabSize);
        List<Float> scores = new ArrayList<>(vocabSize);
        Map<String, Integer> added = new LinkedHashMap<>();
        for (int id = 0; id < vocabSize; id++) {
            if (id >= nPieces) {
                int k = id - nPieces;
                if (k < specials.size()) {
                    tokens.add(specials.get(k));
                    types.add(CONTROL);
                    added.put(specials.get(k), id);
                } else {
                    tokens.add("[PAD" + id + "]"); // SPTokenizer.convert_id_to_token gives "" past its specials
                    types.add(UNUSED);
                }
                scores.add(0f);
                continue;
            }
            TokenizerModelFile.Piece p = pieces.get(id);
            // SPTokenizer.convert_id_to_token gives "" for its eos/bos/pad ids; the reference writes fixed names at 0-2
            String text = id == 0 ? "<unk>" : id == 1 ? "<bos>" : id == 2 ? "<eos>" : p.piece();
            tokens.add(text);
            scores.add(p.score());
            types.add(switch (p.type()) {
                case TokenizerModelFile.UNKNOWN -> UNKNOWN;
                case TokenizerModelFile.CONTROL -> CONTROL;
                case TokenizerModelFile.UNUSED -> UNUSED;
                case TokenizerModelFile.BYTE -> BYTE;
                default -> NORMAL; // the reference does not ask is_user_defined: user-defined pieces stay NORMAL
            });
        }
        return new Vocab("llama", "chatglm-spm", tokens, types, scores, null, added);
    }
}
