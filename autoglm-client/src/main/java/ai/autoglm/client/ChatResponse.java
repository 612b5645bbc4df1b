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
 * @param reasoning    the model's reasoning ({@code <think>} block of Qwen3, GLM-4.5 and other thinking models; the
 *                     server's {@code reasoning_content}), kept apart from {@code content}; null when there was none
 */
public record ChatResponse(String content, List<ToolCall> toolCalls, String finishReason, Usage usage, Timing timing, Route route,
                           String reasoning) {
    public ChatResponse {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** An answer without reasoning. */
    public ChatResponse(String content, List<ToolCall> toolCalls, String finishReason, Usage usage, Timing timing, Route route) {
        this(content, toolCalls, finishReason, usage, timing, route, null);
    }

    /** The same answer said to come from {@code r}. */
    public ChatResponse withRoute(Route r) {
        return new ChatResponse(content, toolCalls, finishReason, usage, timing, r, reasoning);
    }
}
