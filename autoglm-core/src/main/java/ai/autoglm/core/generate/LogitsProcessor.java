package ai.autoglm.core.generate;

/**
 * Changes the model's logits before the {@link Sampler} sees them, and follows the tokens chosen: the hook for
 * constrained decoding (e.g. {@code response_format} JSON, see {@code ai.autoglm.core.generate.json}). Stateful:
 * one instance per generation. Like a logits processor in transformers ({@code LogitsProcessor.__call__}) or a
 * grammar sampler in llama.cpp ({@code llama_sampler_init_grammar}): forbidden tokens get {@code -infinity}.
 *
 * <p>The {@link Generator} calls, for every step: {@link #process} on the logits, samples, and, unless the token
 * is a stop token, {@link #accept} with it; then it ends with finish reason {@code stop} as soon as
 * {@link #isComplete()} is true.
 */
public interface LogitsProcessor {

    /** Changes {@code logits} in place for the next token, typically setting forbidden tokens to -infinity. */
    void process(float[] logits);

    /** Records the token chosen for this step (never a stop token: those end generation without being accepted). */
    void accept(int token);

    /** Whether the output is complete, so that generation must end now (finish reason {@code stop}). */
    default boolean isComplete() {
        return false;
    }
}
