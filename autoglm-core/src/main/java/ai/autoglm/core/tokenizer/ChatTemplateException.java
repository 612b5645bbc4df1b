package ai.autoglm.core.tokenizer;

/**
 * A chat template could not be rendered: a syntax error in the template, an error while evaluating it, or the
 * template itself refused the conversation with {@code raise_exception(message)} (then {@link #raisedByTemplate()}
 * is true and the message is the template's).
 */
public final class ChatTemplateException extends RuntimeException {

    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate) {
        super(message);
        this.raisedByTemplate = raisedByTemplate;
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = false;
    }

    /** Whether the template called {@code raise_exception} (the conversation broke the template's rules). */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
