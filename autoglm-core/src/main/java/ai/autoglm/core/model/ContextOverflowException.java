package ai.autoglm.core.model;

/**
 * A request that does not fit the context: the tokens already in the cache plus the new ones exceed what
 * the state (or the model) can hold. Callers map it to a user error (HTTP 400, CLI message), not a crash.
 */
public class ContextOverflowException extends IllegalArgumentException {
    private final int promptTokens;
    private final int newTokens;
    private final int context;

    public ContextOverflowException(int promptTokens, int newTokens, int context) {
        super("prompt of " + promptTokens + " tokens plus " + newTokens + " new exceeds the context of " + context);
        this.promptTokens = promptTokens;
        this.newTokens = newTokens;
        this.context = context;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int newTokens() {
        return newTokens;
    }

    public int context() {
        return context;
    }
}
