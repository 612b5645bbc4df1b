package ai.autoglm.client;

/** 403: the key is valid but may not use this model or operation. Never answered by a local fallback. */
public final class PermissionDeniedException extends ServerErrorException {
    public PermissionDeniedException(String type, String code, String message) {
        super(403, type, code, message);
    }
}
