package ai.autoglm.client;

import java.util.List;

/**
 * An answer, the same shape whichever route produced it.
 *
 * @param content      the text (null when the model only called tools)
 * @param toolCalls    the tool calls the model made (empty when none)
 * @param finishReason why it ended: {@code stop}, {@code length} or {@code tool_calls}
 * @param usage        tokens in and out
 * @param timing       time to the first token and in total, as this client saw them
 * @param route        who answered, and why that route
 */
public record ChatResponse(String content, List<ToolCall> toolCalls, String finishReason, Usage usage, Timing timing, Route route) {
    public ChatResponse {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** The same answer said to come from {@code r}. */
    public ChatResponse withRoute(Route r) {
        return new ChatResponse(content, toolCalls, finishReason, usage, timing, r);
    }
}
