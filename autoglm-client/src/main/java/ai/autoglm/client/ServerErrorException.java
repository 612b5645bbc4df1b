package ai.autoglm.client;

/**
 * The server answered with an error: its HTTP status and OpenAI error object ({@code type}, {@code code},
 * {@code message}; the exception's message is the server's).
 */
public class ServerErrorException extends AutoGLMException {
    private final int status;
    private final String type;
    private final String code;

    public ServerErrorException(int status, String type, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
    }

    public ServerErrorException(int status, String type, String code, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.type = type;
        this.code = code;
    }

    /** The HTTP status (0 when no answer came). */
    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }
}
