package ai.autoglm.core.generate.json;

import ai.autoglm.core.generate.LogitsProcessor;

import java.util.Arrays;
import java.util.Set;

/**
 * Keeps a generation inside a {@link JsonGrammar}: before each sample every token whose bytes would leave the
 * grammar gets logit -infinity; the end tokens (EOS, end of turn) are allowed only where the value is complete;
 * once nothing can extend the value, {@link #isComplete()} ends the generation. One per generation.
 */
public final class JsonLogitsProcessor implements LogitsProcessor {
    private final TokenMasker masker;
    private final TokenTrie trie;
    private final int[] endTokens;
    private final float[] endLogits;
    private JsonState state;

    JsonLogitsProcessor(TokenMasker masker, JsonState start, Set<Integer> endTokens) {
        this.masker = masker;
        this.trie = masker.trie();
        this.state = start;
        this.endTokens = endTokens.stream().mapToInt(Integer::intValue).filter(t -> t >= 0).sorted().toArray();
        this.endLogits = new float[this.endTokens.length];
    }

    /** The automaton state after the tokens accepted so far. */
    public JsonState state() {
        return state;
    }

    @Override
    public void process(float[] logits) {
        long[] mask = masker.allowed(state);
        boolean mayEnd = state.canEnd();
        for (int i = 0; i < endTokens.length; i++) endLogits[i] = endTokens[i] < logits.length ? logits[endTokens[i]] : 0;
        int inVocab = Math.min(logits.length, trie.vocabSize());
        for (int i = 0; i < inVocab; i++) {
            if ((mask[i >>> 6] & (1L << i)) == 0) logits[i] = Float.NEGATIVE_INFINITY;
        }
        // ids past the tokenizer's vocabulary (padding rows of the output matrix) are never text
        if (inVocab < logits.length) Arrays.fill(logits, inVocab, logits.length, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < endTokens.length; i++) {
            if (endTokens[i] < logits.length) logits[endTokens[i]] = mayEnd ? endLogits[i] : Float.NEGATIVE_INFINITY;
        }
        if (!anyAllowed(logits)) {
            throw new IllegalStateException("no token of the vocabulary continues the JSON output here"
                    + (mayEnd ? "" : " and the value is not complete yet"));
        }
    }

    private static boolean anyAllowed(float[] logits) {
        for (float v : logits) if (v != Float.NEGATIVE_INFINITY) return true;
        return false;
    }

    @Override
    public void accept(int token) {
        byte[] bytes = trie.tokenBytes(token);
        JsonState next = bytes == null ? null : state.advance(bytes);
        if (next == null) {
            throw new IllegalStateException("token " + token + " does not continue the JSON output (was process() applied to the logits?)");
        }
        state = next;
    }

    @Override
    public boolean isComplete() {
        return state.isComplete();
    }
}
