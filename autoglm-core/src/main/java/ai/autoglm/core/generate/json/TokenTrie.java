package ai.autoglm.core.generate.json;

import ai.autoglm.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The byte strings of a vocabulary's tokens in a trie, so that one depth-first walk against an automaton state
 * decides every token at once and drops a whole subtree at the first byte the state refuses (the idea of
 * llama.cpp's grammar sampler and of Outlines/XGrammar token tries). Special tokens (their text never reaches the
 * output) and empty tokens are left out. Built once per tokenizer ({@link #of}) and shared; immutable.
 *
 * <p>Nodes are numbered in depth-first order with the root 0; children are a linked list in ascending byte order.
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    private final int vocabSize;
    private final byte[][] tokenBytes;
    private final int[] firstChild;
    private final int[] nextSibling;
    private final byte[] label;
    /** The token ids ending at node n are ids[tokensFrom[n] .. tokensTo[n]). */
    private final int[] tokensFrom;
    private final int[] tokensTo;
    private final int[] ids;
    private final int nodeCount;

    /** The trie of a tokenizer's vocabulary, built on first use and kept while the tokenizer lives. */
    public static TokenTrie of(Tokenizer tokenizer) {
        return CACHE.computeIfAbsent(tokenizer, TokenTrie::build);
    }

    private static TokenTrie build(Tokenizer tokenizer) {
        byte[][] bytes = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < bytes.length; id++) {
            if (tokenizer.isSpecial(id)) continue;
            byte[] b = tokenizer.tokenBytes(id);
            if (b != null && b.length > 0) bytes[id] = b;
        }
        return new TokenTrie(bytes);
    }

    /** A trie over {@code tokenBytes[id]} (null entries are left out). */
    TokenTrie(byte[][] tokenBytes) {
        this.vocabSize = tokenBytes.length;
        this.tokenBytes = tokenBytes;
        int count = 0, total = 0, longest = 0;
        for (byte[] b : tokenBytes) {
            if (b == null) continue;
            count++;
            total += b.length;
            longest = Math.max(longest, b.length);
        }
        Integer[] order = new Integer[count];
        for (int id = 0, k = 0; id < tokenBytes.length; id++) if (tokenBytes[id] != null) order[k++] = id;
        Arrays.sort(order, (x, y) -> Arrays.compareUnsigned(tokenBytes[x], tokenBytes[y]));

        int cap = total + 1;
        int[] first = new int[cap], next = new int[cap], last = new int[cap], from = new int[cap], to = new int[cap];
        byte[] lab = new byte[cap];
        Arrays.fill(first, -1);
        Arrays.fill(next, -1);
        int nodes = 1;
        int[] path = new int[longest + 1];
        byte[] prev = new byte[0];
        this.ids = new int[count];
        for (int k = 0; k < count; k++) {
            int id = order[k];
            ids[k] = id;
            byte[] t = tokenBytes[id];
            int common = Arrays.mismatch(prev, t);
            if (common < 0) common = t.length; // same bytes as the previous token
            int node = path[common];
            for (int d = common; d < t.length; d++) {
                int c = nodes++;
                lab[c] = t[d];
                // sorted input: a new child has the largest byte among its siblings
                if (first[node] < 0) first[node] = c;
                else next[last[node]] = c;
                last[node] = c;
                node = c;
                path[d + 1] = c;
            }
            if (to[node] == 0) from[node] = k;
            to[node] = k + 1;
            prev = t;
        }
        this.nodeCount = nodes;
        this.firstChild = Arrays.copyOf(first, nodes);
        this.nextSibling = Arrays.copyOf(next, nodes);
        this.label = Arrays.copyOf(lab, nodes);
        this.tokensFrom = Arrays.copyOf(from, nodes);
        this.tokensTo = Arrays.copyOf(to, nodes);
    }

    /** Token ids this trie was built for: 0 .. vocabSize-1. */
    public int vocabSize() {
        return vocabSize;
    }

    /** How many nodes the trie has (the root included). */
    public int nodeCount() {
        return nodeCount;
    }

    /** The bytes of a token, or null for tokens left out (special, empty, out of range). */
    byte[] tokenBytes(int id) {
        return id >= 0 && id < vocabSize ? tokenBytes[id] : null;
    }

    /**
     * Sets, in {@code mask} (a bit set over token ids), every token whose bytes lead from {@code state} to a live
     * state: one walk of the trie that prunes a subtree as soon as its prefix is refused.
     */
    void allowed(JsonState state, long[] mask) {
        walk(0, state, mask);
    }

    private void walk(int node, JsonState state, long[] mask) {
        for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
            JsonState next = state.advance(label[c] & 0xff);
            if (next == null) continue;
            for (int k = tokensFrom[c]; k < tokensTo[c]; k++) {
                int id = ids[k];
                mask[id >>> 6] |= 1L << id;
            }
            if (firstChild[c] >= 0) walk(c, next, mask);
        }
    }
}
