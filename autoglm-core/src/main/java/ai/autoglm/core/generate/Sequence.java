package ai.autoglm.core.generate;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;

import java.util.Arrays;

/**
 * One conversation's KV cache and the tokens in it. A new prompt that starts with tokens already in the
 * cache (the previous turns of a chat) only runs its new suffix through the model.
 */
public final class Sequence implements AutoCloseable {
    private final LanguageModel model;
    private final InferenceState state;
    /** tokens[0 .. state.position()) are in the KV cache; the history may run one sampled token beyond. */
    private int[] tokens;
    private int length;

    public Sequence(LanguageModel model, int capacity) {
        this.model = model;
        this.state = model.newState(capacity);
        this.tokens = new int[Math.min(capacity, 1024)];
    }

    /** Frees the KV cache's native memory (a released slot or conversation); the sequence cannot run afterwards. */
    @Override
    public void close() {
        state.close();
    }

    public InferenceState state() {
        return state;
    }

    public int capacity() {
        return state.capacity();
    }

    /** Tokens known to this sequence: the prompt so far plus what was generated. Used for penalties. */
    int[] history() {
        return tokens;
    }

    public int historyLength() {
        return length;
    }

    /**
     * Makes the cache hold a prefix of {@code prompt} and runs the rest of it, returning the logits after the
     * prompt's last token. At least the last token is always run, so there are logits to sample from.
     */
    float[] prefill(int[] prompt) {
        int from = startPrompt(prompt);
        return model.forward(state, prompt, from, prompt.length - from, false);
    }

    /**
     * How many leading tokens of {@code prompt} are already in the cache and would be reused (at most
     * {@code prompt.length - 1}: the last token always runs). A scheduler prefers the slot where this is longest.
     */
    public int reusablePrefix(int[] prompt) {
        int common = 0;
        int limit = Math.min(Math.min(prompt.length - 1, state.position()), length);
        while (common < limit && tokens[common] == prompt[common]) common++;
        return common;
    }

    /**
     * Starts a new prompt: keeps the reusable prefix in the cache, records the prompt as the history and returns
     * the index of its first token still to run; the caller runs {@code prompt[from ..]} through the model on
     * {@link #state()} (in one call or in chunks) and samples from the logits after the last one.
     */
    public int startPrompt(int[] prompt) {
        int common = reusablePrefix(prompt);
        state.rewind(common);
        length = common;
        for (int i = common; i < prompt.length; i++) append(prompt[i]);
        return common;
    }

    /** The tokens of this sequence (prompt and generated); entries {@code [0, historyLength())} are valid. */
    public int[] tokens() {
        return tokens;
    }

    /** Records a sampled token (not yet in the cache). */
    void append(int token) {
        if (length == tokens.length) tokens = Arrays.copyOf(tokens, Math.min(capacity() + 1, tokens.length * 2));
        tokens[length++] = token;
    }

    /** Runs the last appended token through the model and returns the logits after it. */
    float[] decodeLast() {
        return model.forward(state, tokens, length - 1, 1, false);
    }
}
