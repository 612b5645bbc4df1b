package ai.autoglm.client;

/** 401: the API key is missing, unknown or revoked. Never answered by a local fallback: the key must be fixed. */
public final class AuthenticationException extends ServerErrorException {
    public AuthenticationException(String type, String code, String message) {
        super(401, type, code, message);
    }
}
