package ai.autoglm.client;

/**
 * A stream broke after it had started: the server went away or failed mid-answer. The text received so far is
 * {@link #partialContent()}. Hybrid clients raise it too by default (the answer is not restarted locally, since the
 * caller has already seen part of the server's answer); the server counts as failed for the circuit breaker.
 */
public final class StreamInterruptedException extends AutoGLMException {
    private final String partialContent;

    public StreamInterruptedException(String message, String partialContent, Throwable cause) {
        super(message, cause);
        this.partialContent = partialContent;
    }

    public String partialContent() {
        return partialContent;
    }
}
