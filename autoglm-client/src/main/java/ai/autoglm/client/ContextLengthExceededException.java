package ai.autoglm.client;

/**
 * The prompt (plus the requested answer length) does not fit the model's context. Never silently cut: shorten the
 * conversation or {@code maxTokens}. From a server: its 400 {@code context_length_exceeded}.
 */
public final class ContextLengthExceededException extends ServerErrorException {
    public ContextLengthExceededException(int status, String message) {
        super(status, "invalid_request_error", "context_length_exceeded", message);
    }
}
