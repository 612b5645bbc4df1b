package ai.autoglm.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BPE tokenizer for both families this engine loads:
 * <ul>
 *   <li>{@link SymbolMode#BYTE_LEVEL}: GPT-2 style byte-level BPE (Llama 3, Qwen2/3, GLM-4): words from a
 *       regex pre-tokenizer, the word's UTF-8 bytes are the initial symbols, merges by rank (HF tokenizers
 *       models/bpe; llama.cpp llm_tokenizer_bpe_session).</li>
 *   <li>{@link SymbolMode#CODE_POINT}: SentencePiece-style BPE (Llama 2, Mistral): spaces written as U+2581,
 *       the initial symbols are Unicode code points, a code point missing from the vocabulary falls back to
 *       {@code <0xXX>} byte tokens (HF BPE byte_fallback; llama.cpp llm_tokenizer_spm_session, whose
 *       "highest score first" is expressed here as ranks ordered by score).</li>
 * </ul>
 * Instances are immutable apart from a bounded word cache and may be shared between threads.
 */
final class BpeTokenizer implements Tokenizer {

    enum SymbolMode { BYTE_LEVEL, CODE_POINT }

    /** Everything the loaders work out from tokenizer.json or GGUF metadata. */
    record Spec(
            SymbolMode mode,
            String[] tokens,                       // id → vocabulary string (null for unassigned ids)
            byte[][] tokenBytes,                   // id → decoded bytes
            boolean[] special,                     // id → special/control
            Map<String, Integer> modelVocab,       // strings BPE may produce (excludes added tokens)
            MergeTable merges,
            List<AddedToken> addedTokens,
            TextRules.Normalizer normalizer,       // nullable
            TextRules.PreTokenizer preTokenizer,
            boolean ignoreMerges,                  // whole word in the vocabulary → one token (HF ignore_merges)
            boolean byteFallback,
            int unkId,
            boolean fuseUnk,
            int stripLeadingSpaces,                // decode: leading spaces to drop (HF Strip decoder / SPM prefix)
            int bosId, int eosId,
            int[] prefix) {                        // ids put before the text by encode-with-special-tokens
    }

    private static final int CACHE_LIMIT = 50_000;
    private static final int CACHE_MAX_WORD = 256;

    private final Spec spec;
    private final Map<String, Integer> allIds = new HashMap<>();
    private final AddedTokenSplitter splitter;
    private final int[] byteSymbolIds = new int[256];   // BYTE_LEVEL: id of the one-character token per byte
    private final int[] byteFallbackIds = new int[256]; // CODE_POINT: id of <0xXX>
    private final Map<Integer, Integer> codePointIds = new HashMap<>();
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeTokenizer(Spec spec) {
        this.spec = spec;
        for (int i = 0; i < spec.tokens().length; i++) {
            if (spec.tokens()[i] != null) {
                allIds.putIfAbsent(spec.tokens()[i], i);
            }
        }
        for (AddedToken t : spec.addedTokens()) {
            allIds.put(t.content(), t.id());
        }
        splitter = new AddedTokenSplitter(spec.addedTokens());
        Arrays.fill(byteSymbolIds, -1);
        Arrays.fill(byteFallbackIds, -1);
        for (int b = 0; b < 256; b++) {
            Integer id = spec.modelVocab().get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            byteSymbolIds[b] = id == null ? -1 : id;
            Integer fb = spec.modelVocab().get(String.format("<0x%02X>", b));
            byteFallbackIds[b] = fb == null ? -1 : fb;
        }
        if (spec.mode() == SymbolMode.CODE_POINT) {
            for (Map.Entry<String, Integer> e : spec.modelVocab().entrySet()) {
                String s = e.getKey();
                if (!s.isEmpty() && s.codePointCount(0, s.length()) == 1) {
                    codePointIds.put(s.codePointAt(0), e.getValue());
                }
            }
        }
    }

    @Override
    public int vocabSize() {
        return spec.tokens().length;
    }

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        List<AddedTokenSplitter.Section> sections = splitter.split(text, parseSpecial);
        // Section texts, with whitespace next to lstrip/rstrip added tokens removed (HF AddedToken flags).
        String[] texts = new String[sections.size()];
        for (int i = 0; i < texts.length; i++) {
            AddedTokenSplitter.Section s = sections.get(i);
            texts[i] = s.token() == null ? text.substring(s.start(), s.end()) : null;
        }
        for (int i = 0; i < texts.length; i++) {
            AddedToken t = sections.get(i).token();
            if (t == null) {
                continue;
            }
            if (t.lstrip() && i > 0 && texts[i - 1] != null) {
                texts[i - 1] = TextRules.trimEnd(texts[i - 1]);
            }
            if (t.rstrip() && i + 1 < texts.length && texts[i + 1] != null) {
                texts[i + 1] = TextRules.trimStart(texts[i + 1]);
            }
        }
        List<String> words = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            AddedToken t = sections.get(i).token();
            if (t != null) {
                out.add(t.id());
                continue;
            }
            String section = texts[i];
            if (section.isEmpty()) {
                continue;
            }
            if (spec.normalizer() != null) {
                section = spec.normalizer().apply(section);
                if (section.isEmpty()) {
                    continue;
                }
            }
            words.clear();
            spec.preTokenizer().split(section, i == 0, words);
            for (String w : words) {
                if (!w.isEmpty()) {
                    encodeWord(w, out);
                }
            }
        }
        return out.toArray();
    }

    private void encodeWord(String word, IntList out) {
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = spec.mode() == SymbolMode.BYTE_LEVEL ? bpeBytes(word) : bpeCodePoints(word);
            if (word.length() <= CACHE_MAX_WORD) {
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, cached);
            }
        }
        out.addAll(cached);
    }

    private int[] bpeBytes(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        if (spec.ignoreMerges()) {
            Integer whole = spec.modelVocab().get(ByteLevel.encode(bytes));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = bytes.length;
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteSymbolIds[bytes[i] & 0xFF];
        }
        int[] pos = new int[n];
        int count = spec.merges().merge(sym, n, pos);
        IntList out = new IntList(count);
        for (int i = 0; i < count; i++) {
            int id = sym[pos[i]];
            if (id >= 0) {
                out.add(id);
            } else {
                addUnk(out);
            }
        }
        return out.toArray();
    }

    private int[] bpeCodePoints(String word) {
        if (spec.ignoreMerges()) {
            Integer whole = spec.modelVocab().get(word);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] cps = word.codePoints().toArray();
        int n = cps.length;
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) {
            Integer id = codePointIds.get(cps[i]);
            sym[i] = id == null ? -1 : id;
        }
        int[] pos = new int[n];
        int count = spec.merges().merge(sym, n, pos);
        IntList out = new IntList(count + 4);
        for (int i = 0; i < count; i++) {
            int id = sym[pos[i]];
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // Unknown code point: its UTF-8 bytes as <0xXX> tokens when all exist (HF BPE byte_fallback,
            // llama.cpp resegment), otherwise the unknown token.
            byte[] b = new String(Character.toChars(cps[pos[i]])).getBytes(StandardCharsets.UTF_8);
            boolean all = spec.byteFallback();
            for (int k = 0; all && k < b.length; k++) {
                all = byteFallbackIds[b[k] & 0xFF] >= 0;
            }
            if (all) {
                for (byte x : b) {
                    out.add(byteFallbackIds[x & 0xFF]);
                }
            } else {
                addUnk(out);
            }
        }
        return out.toArray();
    }

    private void addUnk(IntList out) {
        if (spec.unkId() < 0) {
            return; // no unknown token: HF tokenizers drops the symbol too
        }
        if (spec.fuseUnk() && out.size() > 0 && out.last() == spec.unkId()) {
            return;
        }
        out.add(spec.unkId());
    }

    @Override
    public byte[] tokenBytes(int id) {
        checkId(id);
        byte[] b = spec.tokenBytes()[id];
        return b == null ? new byte[0] : b.clone();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            checkId(id);
            byte[] b = spec.tokenBytes()[id];
            if (b != null) {
                buf.writeBytes(b);
            }
        }
        String s = Utf8.decode(buf.toByteArray());
        int strip = 0;
        while (strip < spec.stripLeadingSpaces() && strip < s.length() && s.charAt(strip) == ' ') {
            strip++;
        }
        return s.substring(strip);
    }

    @Override
    public String tokenString(int id) {
        checkId(id);
        String s = spec.tokens()[id];
        return s == null ? "" : s;
    }

    @Override
    public int tokenId(String token) {
        Integer id = allIds.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < spec.special().length && spec.special()[id];
    }

    @Override
    public int bosId() {
        return spec.bosId();
    }

    @Override
    public int eosId() {
        return spec.eosId();
    }

    @Override
    public int[] prefixTokens() {
        return spec.prefix().clone();
    }

    private void checkId(int id) {
        if (id < 0 || id >= spec.tokens().length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + spec.tokens().length);
        }
    }

    /** Growable int array (avoids boxing on the hot path). */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int cap) {
            a = new int[Math.max(4, cap)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(n + v.length, n * 2));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int size() {
            return n;
        }

        int last() {
            return a[n - 1];
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
