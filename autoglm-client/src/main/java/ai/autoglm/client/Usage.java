package ai.autoglm.client;

/**
 * Tokens a request used.
 *
 * @param promptTokens       tokens in the prompt
 * @param completionTokens   tokens generated
 * @param cachedPromptTokens of the prompt, how many were reused from a KV cache (0 when the server does not say)
 */
public record Usage(int promptTokens, int completionTokens, int cachedPromptTokens) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
