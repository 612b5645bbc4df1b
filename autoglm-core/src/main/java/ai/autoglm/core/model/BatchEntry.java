package ai.autoglm.core.model;

import java.util.Objects;

/**
 * One sequence's part of a batched forward pass ({@link LanguageModel#forwardBatch}): its tokens
 * {@code tokens[start .. start+count)} are appended at {@code state.position() ..}. A decoding sequence
 * brings one token, a sequence being prefilled brings a chunk of its prompt.
 */
public record BatchEntry(InferenceState state, int[] tokens, int start, int count) {
    public BatchEntry {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(tokens, "tokens");
        if (count < 1) throw new IllegalArgumentException("a batch entry needs at least one token, got " + count);
        Objects.checkFromIndexSize(start, count, tokens.length);
    }

    /** A decode step: one token. */
    public static BatchEntry of(InferenceState state, int token) {
        return new BatchEntry(state, new int[]{token}, 0, 1);
    }
}
