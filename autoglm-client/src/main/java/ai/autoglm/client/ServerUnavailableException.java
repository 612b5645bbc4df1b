package ai.autoglm.client;

/**
 * The server could not answer now: no connection, a timeout, 429 or a 5xx. A hybrid client answers these with its
 * local model and counts them against the server (its circuit breaker); other errors are passed to the caller.
 */
public final class ServerUnavailableException extends ServerErrorException {
    public ServerUnavailableException(int status, String type, String code, String message, Throwable cause) {
        super(status, type, code, message, cause);
    }
}
