package ai.autoglm.core.model;

import ai.autoglm.core.tokenizer.Tokenizer;

import java.util.Optional;

/**
 * A loaded causal language model: configuration, tokenizer, chat template and the forward pass. Any
 * number of {@link InferenceState}s (sequences) may exist at once; the weights are shared and read-only.
 */
public interface LanguageModel extends AutoCloseable {

    ModelConfig config();

    Tokenizer tokenizer();

    /** The Jinja chat template shipped with the model, if any. */
    Optional<String> chatTemplate();

    /**
     * A fresh sequence state able to hold {@code maxTokens} positions (prompt plus generated).
     *
     * @throws ContextOverflowException when {@code maxTokens} exceeds the model's context length
     */
    InferenceState newState(int maxTokens);

    /**
     * Runs {@code tokens[start .. start+count)} at positions {@code state.position() ..} and advances the
     * state by {@code count}. Returns the logits of the last token ({@code vocab} floats, an array owned by
     * the state and overwritten by its next forward call), or when {@code allLogits} a new array of
     * {@code count * vocab} floats, row {@code i} being the logits after token {@code start + i}.
     *
     * @throws ContextOverflowException when the tokens do not fit in the state
     */
    float[] forward(InferenceState state, int[] tokens, int start, int count, boolean allLogits);

    /**
     * One forward pass over several sequences at once (continuous batching): each entry's tokens are run at
     * its state's positions and the state advances by its count. Returns, per entry in order, the logits
     * after its last token ({@code vocab} floats owned by that entry's state, overwritten by its next
     * forward call). The result equals calling {@link #forward} on each entry alone; implementations read
     * each weight row once for all entries instead of once per sequence. States must be distinct.
     *
     * @throws ContextOverflowException when an entry's tokens do not fit in its state
     */
    default float[][] forwardBatch(java.util.List<BatchEntry> entries) {
        float[][] out = new float[entries.size()][];
        for (int i = 0; i < out.length; i++) {
            BatchEntry e = entries.get(i);
            out[i] = forward(e.state(), e.tokens(), e.start(), e.count(), false);
        }
        return out;
    }

    /** Throws {@link ContextOverflowException} unless a prompt of this length plus this many new tokens fits the model. */
    default void checkFits(int promptTokens, int newTokens) {
        if (promptTokens < 0 || newTokens < 0) throw new IllegalArgumentException("negative token count");
        if ((long) promptTokens + newTokens > config().contextLength()) {
            throw new ContextOverflowException(promptTokens, newTokens, config().contextLength());
        }
    }

    /** Releases the weights (unmaps the file). */
    @Override
    void close();
}
