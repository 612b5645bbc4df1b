package ai.autoglm.client;

/** The server's base URL is not an absolute http(s) URL with a host. */
public final class InvalidEndpointException extends AutoGLMException {
    public InvalidEndpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
