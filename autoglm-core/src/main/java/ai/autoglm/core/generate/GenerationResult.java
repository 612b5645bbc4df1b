package ai.autoglm.core.generate;

/**
 * What a generation produced, with its timings.
 *
 * @param text             the generated text (stop string cut off)
 * @param promptTokens     tokens in the prompt
 * @param completionTokens tokens generated (the stop token not counted)
 * @param finishReason     why it ended
 * @param prefillNanos     time spent on the prompt, up to the first generated token's logits
 * @param decodeNanos      time spent generating after that
 */
public record GenerationResult(String text, int promptTokens, int completionTokens, FinishReason finishReason,
                               long prefillNanos, long decodeNanos) {

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : Math.max(0, completionTokens - 1) * 1e9 / decodeNanos;
    }
}
