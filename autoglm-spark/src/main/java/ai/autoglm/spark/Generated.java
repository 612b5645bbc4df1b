package ai.autoglm.spark;

/**
 * One row's answer. When the row could not be generated (its prompt does not fit the context, the model failed on
 * it), {@code error} says why and the other fields are null: one bad row does not fail the whole Spark job.
 *
 * @param finishReason "stop" or "length" (OpenAI's names)
 */
public record Generated(String text, Integer promptTokens, Integer completionTokens, String finishReason, String error) {
    static Generated failed(String error) {
        return new Generated(null, null, null, null, error);
    }
}
