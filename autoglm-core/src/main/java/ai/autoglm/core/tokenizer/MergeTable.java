package ai.autoglm.core.tokenizer;

/**
 * BPE merge rules keyed on the pair of token ids: (left, right) → (rank, merged id). An open-addressing
 * long→long hash table, because the vocabularies here have up to ~300k merges and a boxed HashMap lookup per
 * candidate pair dominates BPE time. Read-only after construction, so safe to share between threads.
 */
final class MergeTable {
    static final long MISSING = -1L;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    MergeTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        java.util.Arrays.fill(keys, -1L);
        mask = cap - 1;
    }

    /**
     * Merge rules for vocabularies that rank tokens instead of listing merges: any two adjacent symbols whose
     * concatenation is a vocabulary token may merge, at that token's rank (lowest first). This is tiktoken's
     * byte_pair_merge (openai/tiktoken src/lib.rs: the pair whose concatenated bytes have the lowest rank) and
     * SentencePiece's BPE (sentencepiece bpe_model.cc: the pair whose concatenated piece has the highest score),
     * expressed as one rule per split of each token into two vocabulary tokens. Unlike rules reconstructed by
     * replaying BPE on each token (llama.cpp convert_hf_to_gguf.py {@code QwenModel.bpe}), every split is kept, so
     * a token is reached from whichever pair of its parts the text happens to produce.
     *
     * @param tokens id → vocabulary string (null = skip); a token splits only at code point boundaries
     * @param ranks  id → rank, lower merges first (negative = this token is never the result of a merge);
     *               equal ranks are allowed and resolved by position, leftmost first
     * @param vocab  the strings symbols may take (string → id)
     */
    static MergeTable fromConcatenations(String[] tokens, int[] ranks, java.util.Map<String, Integer> vocab) {
        MergeTable table = new MergeTable(tokens.length * 4);
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            if (t == null || ranks[id] < 0 || t.length() < 2) {
                continue;
            }
            Integer self = vocab.get(t);
            if (self == null || self != id) {
                continue; // a duplicate string: the id the vocabulary maps it to is the one merges produce
            }
            for (int k = t.offsetByCodePoints(0, 1); k < t.length(); k = t.offsetByCodePoints(k, 1)) {
                Integer left = vocab.get(t.substring(0, k));
                if (left == null) {
                    continue;
                }
                Integer right = vocab.get(t.substring(k));
                if (right != null) {
                    table.putIfAbsent(left, right, ranks[id], id);
                }
            }
        }
        return table;
    }

    /**
     * Ranks for {@link #fromConcatenations} from SentencePiece scores: the highest score merges first, equal scores
     * share a rank (so the leftmost pair wins, as in sentencepiece bpe_model.cc and llama.cpp
     * llm_tokenizer_spm_session). Tokens with {@code eligible[id] == false} get -1.
     */
    static int[] ranksFromScores(float[] scores, boolean[] eligible) {
        java.util.TreeSet<Float> distinct = new java.util.TreeSet<>((x, y) -> Float.compare(y, x));
        for (int i = 0; i < scores.length; i++) {
            if (eligible[i]) {
                distinct.add(scores[i]);
            }
        }
        java.util.Map<Float, Integer> rankOf = new java.util.HashMap<>();
        for (Float f : distinct) {
            rankOf.put(f, rankOf.size());
        }
        int[] ranks = new int[scores.length];
        for (int i = 0; i < scores.length; i++) {
            ranks[i] = eligible[i] ? rankOf.get(scores[i]) : -1;
        }
        return ranks;
    }

    int size() {
        return size;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    /** Adds a rule unless the pair already has one (the first, lowest-ranked rule wins, as in HF tokenizers). */
    void putIfAbsent(int left, int right, int rank, int merged) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long k = key(left, right);
        int i = slot(k, mask);
        while (keys[i] != -1L) {
            if (keys[i] == k) {
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = k;
        values[i] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
        size++;
    }

    /** (rank &lt;&lt; 32 | merged id) for the pair, or {@link #MISSING}. Negative ids never match. */
    long get(int left, int right) {
        if (left < 0 || right < 0) {
            return MISSING;
        }
        long k = key(left, right);
        int i = slot(k, mask);
        while (true) {
            long kk = keys[i];
            if (kk == k) {
                return values[i];
            }
            if (kk == -1L) {
                return MISSING;
            }
            i = (i + 1) & mask;
        }
    }

    private void grow() {
        long[] oldK = keys;
        long[] oldV = values;
        keys = new long[oldK.length * 2];
        values = new long[oldK.length * 2];
        java.util.Arrays.fill(keys, -1L);
        mask = keys.length - 1;
        for (int j = 0; j < oldK.length; j++) {
            if (oldK[j] != -1L) {
                int i = slot(oldK[j], mask);
                while (keys[i] != -1L) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldK[j];
                values[i] = oldV[j];
            }
        }
    }

    /**
     * Applies the merges to one word given as initial symbol ids (negative = not in the vocabulary; such a
     * symbol never merges). Always merges the lowest-ranked adjacent pair, the leftmost one on ties, as HF
     * tokenizers' BPE::merge_word and llama.cpp's llm_tokenizer_bpe_session / llm_tokenizer_spm_session do.
     * {@code sym} is updated in place; the positions of the surviving symbols are written, in order, to
     * {@code outPos} (length &ge; n).
     *
     * @return the number of surviving symbols
     */
    int merge(int[] sym, int n, int[] outPos) {
        if (n == 1) {
            outPos[0] = 0;
            return 1;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            long v = get(sym[i], sym[i + 1]);
            if (v != MISSING) {
                heap.add((v & 0xFFFFFFFF00000000L) | i);
            }
        }
        while (!heap.isEmpty()) {
            long e = heap.poll();
            int pos = (int) e;
            int rank = (int) (e >>> 32);
            if (dead[pos]) {
                continue;
            }
            int r = next[pos];
            if (r < 0) {
                continue;
            }
            long v = get(sym[pos], sym[r]);
            // A queued pair goes stale when a neighbour merged first; only act on entries that still
            // describe the pair now at this position.
            if (v == MISSING || (int) (v >>> 32) != rank) {
                continue;
            }
            sym[pos] = (int) v;
            dead[r] = true;
            int rn = next[r];
            next[pos] = rn;
            if (rn >= 0) {
                prev[rn] = pos;
                long vr = get(sym[pos], sym[rn]);
                if (vr != MISSING) {
                    heap.add((vr & 0xFFFFFFFF00000000L) | pos);
                }
            }
            int p = prev[pos];
            if (p >= 0) {
                long vl = get(sym[p], sym[pos]);
                if (vl != MISSING) {
                    heap.add((vl & 0xFFFFFFFF00000000L) | p);
                }
            }
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            outPos[count++] = i;
        }
        return count;
    }

    /** Minimal binary min-heap of longs (key = rank in the high half, position in the low half). */
    private static final class LongHeap {
        private long[] a;
        private int n;

        LongHeap(int cap) {
            a = new long[Math.max(4, cap)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void add(long v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            int i = n++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
