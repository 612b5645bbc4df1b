package ai.autoglm.client;

/**
 * Base of every failure this SDK reports. The subclasses are the ones a caller may want to handle apart:
 * {@link ModelFileNotFoundException}, {@link InvalidEndpointException}, {@link AuthenticationException} (401),
 * {@link PermissionDeniedException} (403), {@link ServerUnavailableException} (connection errors, timeouts, 429,
 * 5xx: what hybrid clients fall back on), {@link ContextLengthExceededException}, {@link StreamInterruptedException},
 * and {@link ServerErrorException} for any other error answer.
 */
public class AutoGLMException extends RuntimeException {
    public AutoGLMException(String message) {
        super(message);
    }

    public AutoGLMException(String message, Throwable cause) {
        super(message, cause);
    }
}
