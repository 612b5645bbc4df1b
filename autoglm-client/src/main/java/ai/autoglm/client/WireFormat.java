package ai.autoglm.client;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link ChatRequest} in the OpenAI chat-completions shape (platform.openai.com/docs/api-reference/chat/create):
 * the request body the remote route sends, and the same messages and tools as the maps a chat template reads, for
 * the in-process route. Both routes thus start from one representation, so a request means the same on either.
 */
final class WireFormat {
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private WireFormat() {
    }

    /** The body of {@code POST /v1/chat/completions}. */
    static ObjectNode body(ChatRequest r, String model, boolean stream) {
        ObjectNode b = Json.MAPPER.createObjectNode();
        if (model != null) b.put("model", model);
        b.set("messages", messages(r.messages()));
        GenerationOptions o = r.options();
        if (o.maxTokens() != null) b.put("max_tokens", o.maxTokens());
        if (o.temperature() != null) b.put("temperature", o.temperature());
        if (o.topP() != null) b.put("top_p", o.topP());
        if (o.topK() != null) b.put("top_k", o.topK()); // vLLM's extension, which autoglm serve accepts too
        if (o.seed() != null) b.put("seed", o.seed());
        if (!o.stop().isEmpty()) {
            ArrayNode stop = b.putArray("stop");
            o.stop().forEach(stop::add);
        }
        if (!r.tools().isEmpty()) b.set("tools", tools(r.tools()));
        if (r.responseSchema() != null) b.set("response_format", responseFormat(r.responseSchema()));
        if (stream) {
            b.put("stream", true);
            b.putObject("stream_options").put("include_usage", true);
        }
        return b;
    }

    /** {@code response_format} for a JSON Schema (strict: the only mode our grammar compiler implements). */
    static ObjectNode responseFormat(JsonNode schema) {
        ObjectNode rf = Json.MAPPER.createObjectNode();
        rf.put("type", "json_schema");
        ObjectNode js = rf.putObject("json_schema");
        js.put("name", "response");
        js.set("schema", schema);
        js.put("strict", true);
        return rf;
    }

    static ArrayNode messages(List<ChatMessage> messages) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (ChatMessage m : messages) {
            ObjectNode n = out.addObject();
            n.put("role", m.role().wireName);
            if (m.content() == null) n.putNull("content"); else n.put("content", m.content());
            if (m.toolCallId() != null) n.put("tool_call_id", m.toolCallId());
            if (!m.toolCalls().isEmpty()) {
                ArrayNode calls = n.putArray("tool_calls");
                for (ToolCall c : m.toolCalls()) {
                    ObjectNode call = calls.addObject();
                    if (c.id() != null) call.put("id", c.id());
                    call.put("type", "function");
                    ObjectNode fn = call.putObject("function");
                    fn.put("name", c.name());
                    fn.put("arguments", c.argumentsJson());
                }
            }
        }
        return out;
    }

    static ArrayNode tools(List<ToolSpec> tools) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (ToolSpec t : tools) {
            ObjectNode n = out.addObject();
            n.put("type", "function");
            ObjectNode fn = n.putObject("function");
            fn.put("name", t.name());
            if (t.description() != null) fn.put("description", t.description());
            fn.set("parameters", t.parameters());
        }
        return out;
    }

    /**
     * The messages as a chat template reads them, shaped as {@code autoglm serve} shapes them before rendering
     * (tool-call arguments parsed from their JSON text into objects, as vLLM does: templates write them with
     * {@code tojson}), so that the two routes render the same prompt.
     */
    static List<Map<String, Object>> templateMessages(List<ChatMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role().wireName);
            map.put("content", m.content());
            if (m.role() == Role.TOOL && m.toolCallId() != null) map.put("tool_call_id", m.toolCallId());
            if (m.role() == Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ToolCall c : m.toolCalls()) {
                    Map<String, Object> fn = new LinkedHashMap<>();
                    fn.put("name", c.name());
                    fn.put("arguments", arguments(c.argumentsJson()));
                    Map<String, Object> call = new LinkedHashMap<>();
                    if (c.id() != null) call.put("id", c.id());
                    call.put("type", "function");
                    call.put("function", fn);
                    calls.add(call);
                }
                map.put("tool_calls", calls);
            }
            out.add(map);
        }
        return out;
    }

    private static Object arguments(String json) {
        try {
            JsonNode n = Json.MAPPER.readTree(json);
            if (n != null && n.isObject()) return Json.MAPPER.convertValue(n, MAP);
        } catch (Exception ignored) {
            // not JSON: the template gets the text
        }
        return json;
    }

    /** The tools as template maps, or null when none (templates test {@code if tools}). */
    static List<Map<String, Object>> templateTools(List<ToolSpec> tools) {
        if (tools.isEmpty()) return null;
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode t : tools(tools)) out.add(Json.MAPPER.convertValue(t, MAP));
        return out;
    }

    /** A {@code chat.completion} object as a response. */
    static ChatResponse completion(JsonNode root, Timing timing, Route route) {
        JsonNode choice = root.path("choices").path(0);
        JsonNode msg = choice.path("message");
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode c : msg.path("tool_calls")) calls.add(toolCall(c));
        String content = msg.path("content").isTextual() ? msg.get("content").asText() : null;
        String reasoning = msg.path("reasoning_content").isTextual() ? msg.get("reasoning_content").asText() : null;
        return new ChatResponse(content, calls, choice.path("finish_reason").asText(null), usage(root.path("usage")), timing, route,
                reasoning);
    }

    static ToolCall toolCall(JsonNode c) {
        JsonNode fn = c.path("function");
        return new ToolCall(c.path("id").asText(null), fn.path("name").asText(null), fn.path("arguments").asText("{}"));
    }

    static Usage usage(JsonNode u) {
        return new Usage(u.path("prompt_tokens").asInt(0), u.path("completion_tokens").asInt(0),
                u.path("prompt_tokens_details").path("cached_tokens").asInt(0));
    }
}
