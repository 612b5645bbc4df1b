package ai.autoglm.client;

/**
 * A structured answer: the reply parsed into {@code T}, and the response it came from.
 *
 * @param value    the parsed record
 * @param response the raw answer (its content is the JSON text)
 */
public record Structured<T>(T value, ChatResponse response) {
}
