package ai.autoglm.core.tokenizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One message of a conversation, in the OpenAI chat shape that Hugging Face chat templates read
 * ({@code message.role}, {@code message.content}, {@code message.tool_calls}, ...).
 *
 * @param role             "system", "user", "assistant" or "tool" (templates may accept others)
 * @param content          the text; may be null for an assistant message that only calls tools
 * @param toolCalls        assistant tool calls, each a map {@code {id, type:"function", function:{name, arguments}}}
 *                         where {@code arguments} is a JSON string or a map; null when none
 * @param toolCallId       for role "tool": the id of the call this message answers; null otherwise
 * @param name             optional name (of the tool for role "tool", of the speaker otherwise)
 * @param reasoningContent the assistant's reasoning ("thinking") text, read by e.g. Qwen3's template; null when none
 */
public record ChatMessage(String role, String content, List<Map<String, Object>> toolCalls, String toolCallId,
                          String name, String reasoningContent) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? null : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, null, null, null, null);
    }

    public static ChatMessage system(String content) { return new ChatMessage("system", content); }

    public static ChatMessage user(String content) { return new ChatMessage("user", content); }

    public static ChatMessage assistant(String content) { return new ChatMessage("assistant", content); }

    /** An assistant message with reasoning kept apart from the answer. */
    public static ChatMessage assistant(String content, String reasoningContent) {
        return new ChatMessage("assistant", content, null, null, null, reasoningContent);
    }

    /** An assistant message calling tools; {@code content} may be null. */
    public static ChatMessage assistantToolCalls(String content, List<Map<String, Object>> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls, null, null, null);
    }

    /** A tool result answering the call {@code toolCallId}. */
    public static ChatMessage tool(String toolCallId, String name, String content) {
        return new ChatMessage("tool", content, null, toolCallId, name, null);
    }

    /** A tool call map in the OpenAI shape; {@code arguments} is a JSON string or a map. */
    public static Map<String, Object> toolCall(String id, String functionName, Object arguments) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", functionName);
        function.put("arguments", arguments);
        Map<String, Object> call = new LinkedHashMap<>();
        if (id != null) call.put("id", id);
        call.put("type", "function");
        call.put("function", function);
        return call;
    }

    /**
     * The message as the template sees it: a map with {@code role} and {@code content} (null content kept, so
     * that {@code message.content is none} holds), and the optional keys only when set, so that
     * {@code message.reasoning_content is defined} is false when there is none - as for a JSON message
     * without that field in Python.
     */
    public Map<String, Object> toTemplateMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        if (toolCalls != null) m.put("tool_calls", toolCalls);
        if (toolCallId != null) m.put("tool_call_id", toolCallId);
        if (name != null) m.put("name", name);
        if (reasoningContent != null) m.put("reasoning_content", reasoningContent);
        return m;
    }
}
