package ai.autoglm.core.generate;

/** Why generation ended, with the OpenAI wire names. */
public enum FinishReason {
    /** A stop token or stop string was produced. */
    STOP("stop"),
    /** max tokens reached, or the context is full. */
    LENGTH("length"),
    /**
     * The server is shutting down and its grace period ran out: the answer ends early, whole as far as it goes.
     * Not one of OpenAI's values (vLLM answers "abort" in the same place); clients that only know
     * stop/length/tool_calls read it as an unknown reason, and a retry elsewhere is safe.
     */
    SHUTDOWN("shutdown");

    public final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }
}
