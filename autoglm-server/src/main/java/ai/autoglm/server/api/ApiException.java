package ai.autoglm.server.api;

import java.util.Map;

/**
 * A request that gets an OpenAI error object, {@code {"error": {"message", "type", "param", "code"}}}, with this
 * HTTP status. Types and codes are OpenAI's ({@code invalid_request_error}, {@code model_not_found}, ...).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers;

    public ApiException(int status, String type, String param, String code, String message, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    public ApiException(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, Map.of());
    }

    /** 400 naming the parameter whose value is wrong. */
    public static ApiException invalidParam(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, "invalid_value", message);
    }

    /** 400 for a documented parameter value this server cannot honour. */
    public static ApiException unsupported(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, "unsupported_value", message);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request_error", null, null, message);
    }

    /** 503: the audit trail cannot take the request's record, so the request is not served (it fails closed). */
    public static ApiException auditUnavailable() {
        return new ApiException(503, "server_error", null, "audit_unavailable",
                "the request could not be recorded in the server's audit trail, so it was not served; retry later",
                Map.of("Retry-After", "30"));
    }

    public static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "The model `" + model + "` does not exist.");
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
