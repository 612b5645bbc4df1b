package ai.autoglm.client;

import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation.
 *
 * @param role       who wrote it
 * @param content    its text (null for an assistant turn that only calls tools)
 * @param toolCalls  the calls an assistant turn made (empty otherwise)
 * @param toolCallId for a {@link Role#TOOL} turn: the id of the call it answers, else null
 */
public record ChatMessage(Role role, String content, List<ToolCall> toolCalls, String toolCallId) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (content == null && toolCalls.isEmpty()) throw new IllegalArgumentException("a " + role.wireName + " message needs content");
    }

    public static ChatMessage system(String text) {
        return new ChatMessage(Role.SYSTEM, text, null, null);
    }

    public static ChatMessage user(String text) {
        return new ChatMessage(Role.USER, text, null, null);
    }

    public static ChatMessage assistant(String text) {
        return new ChatMessage(Role.ASSISTANT, text, null, null);
    }

    /** An assistant turn that called tools (send it back with the {@link #toolResult} answers). */
    public static ChatMessage assistant(String text, List<ToolCall> calls) {
        return new ChatMessage(Role.ASSISTANT, text, calls, null);
    }

    /** The result of a tool call, as the next turn of the conversation. */
    public static ChatMessage toolResult(String toolCallId, String result) {
        return new ChatMessage(Role.TOOL, result, null, toolCallId);
    }
}
