package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece BPE {@code tokenizer.model} (ChatGLM3-6B, Llama 2) as {@link BpeTokenizer}'s code-point mode:
 * the NormalizerSpec steps (remove extra spaces, dummy prefix, spaces as U+2581), then sentencepiece
 * bpe_model.cc's merge rule (any adjacent pair whose concatenation is a piece, highest score first, leftmost on
 * ties), byte fallback or a fused unknown for characters outside the vocabulary.
 * <p>
 * With {@code tokenizer_class} ChatGLMTokenizer the special tokens of THUDM/chatglm3-6b tokenization_chatglm.py
 * (SPTokenizer) are appended after the pieces: [MASK], [gMASK], [sMASK], sop, eop, &lt;|system|&gt;,
 * &lt;|user|&gt;, &lt;|assistant|&gt;, &lt;|observation|&gt; (so [gMASK] = 64790 and sop = 64792 for its 64789
 * pieces). They are recognised in text when special tokens are parsed, as llama.cpp does for converted ChatGLM3
 * files (needed for the {@code [gMASK]sop} its chat template writes); "sop" and "eop" only as whole words.
 */
final class SentencePieceLoader {
    static final List<String> CHATGLM3_SPECIAL_TOKENS = List.of("[MASK]", "[gMASK]", "[sMASK]", "sop", "eop",
            "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>");
    private static final long MAX_FILE_BYTES = 256L * 1024 * 1024;

    private SentencePieceLoader() {
    }

    static Tokenizer load(Path modelFile, JsonNode config, Path configFile) {
        return build(read(modelFile), modelFile, config, configFile);
    }

    /** Parses {@code modelFile}, refusing files larger than any SentencePiece model. */
    static SentencePieceModel read(Path modelFile) {
        byte[] data;
        try {
            if (Files.size(modelFile) > MAX_FILE_BYTES) {
                throw new ModelFormatException(modelFile, "file is " + Files.size(modelFile)
                        + " bytes, more than any SentencePiece model (" + MAX_FILE_BYTES + ")");
            }
            data = ai.autoglm.core.format.LoadedFiles.readAllBytes(modelFile);
        } catch (IOException e) {
            throw new ModelFormatException(modelFile, "cannot read: " + e.getMessage(), e);
        }
        return SentencePieceModel.parse(data, modelFile);
    }

    static Tokenizer build(SentencePieceModel m, Path file, JsonNode config, Path configFile) {
        if (m.modelType() != SentencePieceModel.MODEL_BPE) {
            throw new ModelFormatException(file, "SentencePiece model type " + m.modelType()
                    + " is not supported (only BPE = 2; unigram models need the Viterbi segmentation)");
        }
        TextRules.Normalizer charNorm = charNormalizer(m, file);
        List<SentencePieceModel.Piece> pieces = m.pieces();
        int nPieces = pieces.size();

        Map<Integer, String> extra = new HashMap<>();
        Map<Integer, Boolean> extraSpecial = new HashMap<>();
        if ("ChatGLMTokenizer".equals(config.path("tokenizer_class").asText())) {
            for (int i = 0; i < CHATGLM3_SPECIAL_TOKENS.size(); i++) {
                extra.put(nPieces + i, CHATGLM3_SPECIAL_TOKENS.get(i));
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = config.path("added_tokens_decoder").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new ModelFormatException(configFile, "added_tokens_decoder key '" + e.getKey() + "' is not an id");
            }
            String content = e.getValue().path("content").asText("");
            String known = id >= 0 && id < nPieces ? pieces.get(id).piece() : extra.get(id);
            if (id < 0 || id >= nPieces + (1 << 20) || content.isEmpty() || (known != null && !known.equals(content))) {
                throw new ModelFormatException(configFile, "added_tokens_decoder['" + e.getKey() + "'] = '" + content
                        + "' does not fit the vocabulary" + (known != null ? " (that id is '" + known + "')" : ""));
            }
            if (id >= nPieces) {
                extra.put(id, content);
                extraSpecial.put(id, e.getValue().path("special").asBoolean(true));
            }
        }

        int n = Math.max(nPieces, extra.keySet().stream().mapToInt(i -> i + 1).max().orElse(0));
        String[] tokens = new String[n];
        byte[][] tokenBytes = new byte[n][];
        boolean[] special = new boolean[n];
        boolean[] mergeable = new boolean[n];
        float[] scores = new float[n];
        Map<String, Integer> modelVocab = new HashMap<>(n * 2);
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < nPieces; i++) {
            SentencePieceModel.Piece p = pieces.get(i);
            tokens[i] = p.piece();
            scores[i] = p.score();
            switch (p.type()) {
                case SentencePieceModel.NORMAL -> {
                    modelVocab.putIfAbsent(p.piece(), i); // sentencepiece: the first id of a piece wins
                    mergeable[i] = true;
                    tokenBytes[i] = p.piece().replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
                }
                case SentencePieceModel.BYTE -> {
                    modelVocab.putIfAbsent(p.piece(), i);
                    tokenBytes[i] = byteOf(p.piece(), i, file);
                }
                case SentencePieceModel.UNKNOWN -> {
                    // sentencepiece never reads <unk> from text; HF and llama.cpp treat it as a special token
                    // that parse-special mode recognises, and so do we (as for GGUF vocabularies)
                    modelVocab.putIfAbsent(p.piece(), i);
                    special[i] = true;
                    tokenBytes[i] = p.piece().getBytes(StandardCharsets.UTF_8);
                    added.add(new AddedToken(p.piece(), i, true, false, false));
                }
                case SentencePieceModel.CONTROL -> {
                    special[i] = true;
                    tokenBytes[i] = p.piece().getBytes(StandardCharsets.UTF_8);
                    added.add(new AddedToken(p.piece(), i, true, false, false));
                }
                case SentencePieceModel.USER_DEFINED -> {
                    // sentencepiece matches user-defined symbols whole, before BPE, in any context
                    tokenBytes[i] = p.piece().replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
                    added.add(new AddedToken(p.piece(), i, false, false, false));
                }
                default -> tokenBytes[i] = new byte[0]; // UNUSED: never produced
            }
        }
        for (Map.Entry<Integer, String> e : extra.entrySet()) {
            int id = e.getKey();
            String t = e.getValue();
            boolean sp = extraSpecial.getOrDefault(id, true);
            tokens[id] = t;
            special[id] = sp;
            tokenBytes[id] = t.getBytes(StandardCharsets.UTF_8);
            boolean bareWord = t.codePoints().allMatch(Character::isLetterOrDigit);
            added.add(new AddedToken(t, id, sp, false, false, bareWord));
        }
        MergeTable merges = MergeTable.fromConcatenations(tokens, MergeTable.ranksFromScores(scores, mergeable),
                modelVocab);

        boolean removeExtra = m.removeExtraWhitespaces();
        boolean dummy = m.addDummyPrefix();
        boolean escape = m.escapeWhitespaces();
        TextRules.Normalizer norm = s -> {
            // sentencepiece normalizer.cc Normalizer::Normalize, per raw-text section
            String t = charNorm == null ? s : charNorm.apply(s);
            if (removeExtra) {
                t = collapseSpaces(t);
            }
            if (dummy && !t.isEmpty()) {
                t = " " + t;
            }
            return escape ? t.replace(' ', '\u2581') : t;
        };
        int unk = m.unkId() >= 0 && m.unkId() < nPieces ? m.unkId() : -1;
        int bos = m.bosId() >= 0 && m.bosId() < nPieces ? m.bosId() : -1;
        int eos = m.eosId() >= 0 && m.eosId() < nPieces ? m.eosId() : -1;
        // ChatGLMTokenizer.build_inputs_with_special_tokens puts get_prefix_tokens() = [gMASK], sop first (THUDM/
        // chatglm3-6b tokenization_chatglm.py); other SentencePiece tokenizers add BOS when add_bos_token says so.
        int[] prefix;
        if ("ChatGLMTokenizer".equals(config.path("tokenizer_class").asText())) {
            prefix = new int[] {nPieces + CHATGLM3_SPECIAL_TOKENS.indexOf("[gMASK]"), nPieces + CHATGLM3_SPECIAL_TOKENS.indexOf("sop")};
        } else {
            prefix = config.path("add_bos_token").asBoolean(false) && bos >= 0 ? new int[] {bos} : new int[0];
        }
        return new BpeTokenizer(new BpeTokenizer.Spec(BpeTokenizer.SymbolMode.CODE_POINT, tokens, tokenBytes, special,
                modelVocab, merges, added, norm, TextRules.WHOLE, false, m.byteFallback(), unk, true,
                dummy ? 1 : 0, bos, eos, prefix));
    }

    /**
     * The character mapping of the NormalizerSpec. "identity" maps nothing. The NFKC rules are compiled into
     * {@code precompiled_charsmap}, which is not interpreted here: Java's NFKC stands in for it, which agrees
     * on ordinary text but not on the NMT extras (control characters dropped, some spaces unified).
     */
    private static TextRules.Normalizer charNormalizer(SentencePieceModel m, Path file) {
        String name = m.normalizerName();
        if (name.isEmpty() || name.equals("identity")) {
            return null;
        }
        if (name.startsWith("nmt_nfkc") || name.startsWith("nfkc")) {
            boolean caseFold = name.endsWith("_cf");
            return s -> {
                String t = java.text.Normalizer.normalize(s, Form.NFKC);
                return caseFold ? t.toLowerCase(java.util.Locale.ROOT) : t;
            };
        }
        throw new ModelFormatException(file, "SentencePiece normalizer '" + name + "' is not supported "
                + "(supported: identity, nmt_nfkc, nfkc)");
    }

    /** normalizer.cc remove_extra_whitespaces: drop leading and trailing spaces, squeeze runs of spaces to one. */
    private static String collapseSpaces(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                pendingSpace = sb.length() > 0;
                continue;
            }
            if (pendingSpace) {
                sb.append(' ');
                pendingSpace = false;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static byte[] byteOf(String piece, int id, Path file) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new ModelFormatException(file, "byte piece " + id + " is '" + piece + "', expected <0xXX>");
    }
}
