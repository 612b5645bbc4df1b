package ai.autoglm.core.generate.json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tokens allowed in each automaton state, for one grammar and one vocabulary: a trie walk per state, remembered
 * for the most recently used states (a long string with no length limit stays in one state, so its steps after the
 * first cost a lookup). Thread-safe: walks run unlocked, the cache is locked briefly.
 */
final class TokenMasker {
    /** States remembered; a mask is vocabSize/8 bytes (19 KiB for a 152k vocabulary). */
    static final int CACHE_SIZE = 256;

    private final TokenTrie trie;
    private final Map<JsonState, long[]> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<JsonState, long[]> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    TokenMasker(TokenTrie trie) {
        this.trie = trie;
    }

    TokenTrie trie() {
        return trie;
    }

    /** A bit set over token ids of the tokens that keep {@code state} alive. Shared: callers must not change it. */
    long[] allowed(JsonState state) {
        synchronized (cache) {
            long[] known = cache.get(state);
            if (known != null) return known;
        }
        long[] mask = new long[(trie.vocabSize() + 63) >>> 6];
        trie.allowed(state, mask);
        synchronized (cache) {
            cache.put(state, mask);
        }
        return mask;
    }
}
