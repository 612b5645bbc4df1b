package ai.autoglm.server.gateway;

import java.util.Map;

/**
 * The gateway refused a request: the HTTP status and the OpenAI error fields to answer with. It is the one exception
 * type of the gateway's stages (key, role, rate limit, PII filter, open-mode guard, shared stores); the API turns it
 * into an OpenAI error object at one place ({@code OpenAiApi}), so nothing in this package knows about HTTP
 * responses. The messages never say which part of a key was wrong, nor whether it exists, was revoked or has expired.
 */
public final class GatewayException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers;

    public GatewayException(int status, String type, String code, String message, Map<String, String> headers) {
        this(status, type, null, code, message, headers);
    }

    /** @param param the request field the refusal is about (OpenAI's {@code error.param}), or null */
    public GatewayException(int status, String type, String param, String code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    /** A refusal without extra response headers. */
    public GatewayException(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, Map.of());
    }

    /** 404: no model has this name. */
    public static GatewayException modelNotFound(String model) {
        return new GatewayException(404, "invalid_request_error", "model", "model_not_found", "The model `" + model + "` does not exist.");
    }

    /** 400 naming the parameter whose value is wrong. */
    public static GatewayException invalidParam(String param, String message) {
        return new GatewayException(400, "invalid_request_error", param, "invalid_value", message);
    }

    public static GatewayException badRequest(String message) {
        return new GatewayException(400, "invalid_request_error", null, null, message);
    }

    /** 401, one answer for a missing, malformed, unknown, revoked or expired key. */
    static GatewayException unauthenticated() {
        return new GatewayException(401, "invalid_request_error", "invalid_api_key",
                "Missing or invalid API key. Send a valid key as 'Authorization: Bearer <key>'.",
                Map.of("WWW-Authenticate", "Bearer"));
    }

    static GatewayException forbidden(String what) {
        return new GatewayException(403, "permission_error", "permission_denied", "This API key may not use " + what + ".", Map.of());
    }

    static GatewayException rateLimited(String what, long retryAfterSeconds) {
        return new GatewayException(429, "rate_limit_error", "rate_limit_exceeded",
                "Rate limit reached: " + what + ". Retry after " + retryAfterSeconds + " s.",
                Map.of("Retry-After", Long.toString(retryAfterSeconds)));
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    /** The request field the refusal is about, or null. */
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
