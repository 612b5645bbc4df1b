package ai.autoglm.core.generate;

/** Why generation ended, with the OpenAI wire names. */
public enum FinishReason {
    /** A stop token or stop string was produced. */
    STOP("stop"),
    /** max tokens reached, or the context is full. */
    LENGTH("length");

    public final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }
}
