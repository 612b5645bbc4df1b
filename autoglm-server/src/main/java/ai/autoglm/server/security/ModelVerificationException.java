package ai.autoglm.server.security;

/** A model failed its integrity or signature check; the message names the model, and the file when one changed. */
public final class ModelVerificationException extends IllegalArgumentException {
    public ModelVerificationException(String message) {
        super(message);
    }
}
