package ai.autoglm.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * BERT's WordPiece tokenizer as HF tokenizers runs it from a {@code tokenizer.json} (tokenizers/src: normalizers/bert.rs
 * BertNormalizer, pre_tokenizers/bert.rs BertPreTokenizer, models/wordpiece, processors/template.rs):
 * <ol>
 *   <li>added tokens ([CLS], [SEP], [PAD], [MASK], [UNK]) are split out of the raw text first;</li>
 *   <li>normalize: drop NUL, U+FFFD and control characters, turn whitespace into spaces ({@code clean_text}); put
 *       spaces around CJK ideographs ({@code handle_chinese_chars}); NFD and drop non-spacing marks
 *       ({@code strip_accents}, which defaults to {@code lowercase}); lowercase;</li>
 *   <li>pre-tokenize: split on whitespace, every punctuation character (Unicode P* or ASCII punctuation) its own word;</li>
 *   <li>WordPiece: greedy longest-match-first from the start of each word, continuation pieces prefixed {@code ##};
 *       a word longer than {@code max_input_chars_per_word} characters, or one that cannot be covered, is [UNK].</li>
 * </ol>
 * {@link #encode} does not add [CLS]/[SEP]; {@link #encodeForModel} does (the post-processor's single template
 * {@code [CLS] $A [SEP]}) and truncates the text's tokens so the whole fits.
 */
public final class WordPieceTokenizer implements Tokenizer {

    /** BertNormalizer options ({@code strip_accents} null means "same as lowercase"). */
    public record Normalization(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {
        /** bert-base-uncased's settings: everything on. */
        public static final Normalization UNCASED = new Normalization(true, true, true, true);
    }

    private final String[] vocab;
    private final Map<String, Integer> modelVocab;
    private final List<AddedToken> added;
    private final boolean[] special;
    private final AddedTokenSplitter splitter;
    private final Normalization norm;
    private final String prefix;
    private final int maxInputCharsPerWord;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final int maxLength;

    /**
     * @param vocab     id → token (continuations spelled with {@code prefix})
     * @param modelVocab the WordPiece vocabulary, token → id
     * @param added     tokens split out before normalization
     * @param maxLength truncation length from the tokenizer file (including [CLS]/[SEP]), or 0 when it has none
     */
    WordPieceTokenizer(String[] vocab, Map<String, Integer> modelVocab, boolean[] special, List<AddedToken> added,
                       Normalization norm, String prefix, int maxInputCharsPerWord, int unkId, int clsId, int sepId,
                       int maxLength) {
        this.vocab = vocab;
        this.modelVocab = modelVocab;
        this.added = List.copyOf(added);
        this.special = special;
        this.splitter = new AddedTokenSplitter(added);
        this.norm = norm;
        this.prefix = prefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.unkId = unkId;
        this.clsId = clsId;
        this.sepId = sepId;
        this.maxLength = maxLength;
    }

    public int clsId() {
        return clsId;
    }

    public int sepId() {
        return sepId;
    }

    /** The truncation length the tokenizer file asks for (tokenizer.json {@code truncation.max_length}), or 0. */
    public int maxLength() {
        return maxLength;
    }

    @Override
    public int vocabSize() {
        return vocab.length;
    }

    /**
     * {@code [CLS] text [SEP]}, the text's tokens cut at the end (HF truncation "longest_first", direction right) so
     * that at most {@code maxTokens} ids come out. An empty text gives {@code [CLS] [SEP]}.
     */
    public int[] encodeForModel(String text, int maxTokens) {
        if (maxTokens < 2) throw new IllegalArgumentException("maxTokens must be at least 2 ([CLS] and [SEP]), got " + maxTokens);
        int[] body = encode(text, true);
        int keep = Math.min(body.length, maxTokens - 2);
        int[] out = new int[keep + 2];
        out[0] = clsId;
        System.arraycopy(body, 0, out, 1, keep);
        out[keep + 1] = sepId;
        return out;
    }

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        for (AddedTokenSplitter.Section s : splitter.split(text, parseSpecial)) {
            if (s.token() != null) {
                out.add(s.token().id());
            } else {
                for (String word : preTokenize(normalize(text.substring(s.start(), s.end())))) wordPiece(word, out);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** BertNormalizer.normalize (normalizers/bert.rs): clean text, CJK spacing, strip accents, lowercase, in that order. */
    String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            if (norm.cleanText()) {
                if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
                if (isBertWhitespace(cp)) cp = ' ';
            }
            if (norm.handleChineseChars() && isChineseChar(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        String s = sb.toString();
        if (norm.stripAccents()) {
            s = java.text.Normalizer.normalize(s, Form.NFD);
            StringBuilder noMarks = new StringBuilder(s.length());
            s.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK).forEach(noMarks::appendCodePoint);
            s = noMarks.toString();
        }
        if (norm.lowercase()) s = s.toLowerCase(Locale.ROOT);
        return s;
    }

    /** BertPreTokenizer: words split at whitespace; each punctuation character is a word of its own. */
    static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        int wordStart = -1;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (isBertWhitespace(cp) || isPunctuation(cp)) {
                if (wordStart >= 0) words.add(text.substring(wordStart, i));
                wordStart = -1;
                if (!isBertWhitespace(cp)) words.add(text.substring(i, next));
            } else if (wordStart < 0) {
                wordStart = i;
            }
            i = next;
        }
        if (wordStart >= 0) words.add(text.substring(wordStart));
        return words;
    }

    /** models/wordpiece: greedy longest-match-first; the whole word is [UNK] when any part has no piece. */
    private void wordPiece(String word, List<Integer> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < cps.length) {
            int end = cps.length;
            Integer found = null;
            while (start < end) {
                String sub = new String(cps, start, end - start);
                if (start > 0) sub = prefix + sub;
                Integer id = modelVocab.get(sub);
                if (id != null) {
                    found = id;
                    break;
                }
                end--;
            }
            if (found == null) {
                out.add(unkId);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    /** bert.rs is_whitespace: \t \n \r and Unicode White_Space. */
    static boolean isBertWhitespace(int cp) {
        return cp == '\t' || cp == '\n' || cp == '\r' || TextRules.isWhiteSpace(cp);
    }

    /** bert.rs is_control: "other" categories (Cc, Cf, Co, Cs, Cn) except \t \n \r, which count as whitespace. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    /** bert.rs is_punctuation: ASCII punctuation (which includes symbols like $ + < = > ^ ` | ~) or Unicode P*. */
    static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** bert.rs is_chinese_char: the CJK Unified Ideographs blocks (not Hangul, kana or CJK punctuation). */
    static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** The token as it reads in decoded text: continuations without {@code ##}, other tokens after a space. */
    @Override
    public byte[] tokenBytes(int id) {
        String t = tokenString(id);
        if (t == null) return new byte[0];
        String text = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The WordPiece decoder (decoders/wordpiece.rs): tokens joined by spaces, {@code " ##"} joins removed, then the
     * {@code cleanup} of tokenization spaces before punctuation and English contractions.
     */
    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String t = tokenString(ids[i]);
            if (t == null) continue;
            if (i > 0 && t.startsWith(prefix)) {
                sb.append(t, prefix.length(), t.length());
            } else {
                if (i > 0) sb.append(' ');
                sb.append(t);
            }
        }
        return cleanup(sb.toString());
    }

    private static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }

    @Override
    public String tokenString(int id) {
        return id >= 0 && id < vocab.length ? vocab[id] : null;
    }

    @Override
    public int tokenId(String token) {
        Integer id = modelVocab.get(token);
        if (id != null) return id;
        for (AddedToken t : added) {
            if (t.content().equals(token)) return t.id();
        }
        return -1;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** [CLS] plays BOS's part (llama.cpp sets tokenizer.ggml.bos_token_id to it for BERT). */
    @Override
    public int bosId() {
        return clsId;
    }

    @Override
    public int eosId() {
        return sepId;
    }

    /** {@link #encode} never adds [CLS]; use {@link #encodeForModel}. */
    @Override
    public int[] prefixTokens() {
        return new int[0];
    }

    @Override
    public String toString() {
        return "WordPieceTokenizer[" + vocab.length + " tokens, " + norm + "]";
    }
}
