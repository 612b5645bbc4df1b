package ai.autoglm.client;

/** Who wrote a message, with the name the OpenAI wire format uses. */
public enum Role {
    SYSTEM("system"), USER("user"), ASSISTANT("assistant"), TOOL("tool");

    /** The {@code role} field's value. */
    public final String wireName;

    Role(String wireName) {
        this.wireName = wireName;
    }
}
