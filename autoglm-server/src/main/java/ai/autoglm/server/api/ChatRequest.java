package ai.autoglm.server.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated {@code POST /v1/chat/completions} body: the conversation as maps for the chat template (content
 * parts joined to text, tool-call arguments parsed from their JSON strings into objects as vLLM does before
 * rendering, since templates write them with {@code tojson}), the tools, and whether to look for tool calls.
 */
record ChatRequest(GenerationParams params, List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                   boolean parseToolCalls) {

    /** Names of the offered tools: a call to any other name is not a tool call. */
    java.util.Set<String> toolNames() {
        java.util.Set<String> names = new java.util.HashSet<>();
        if (tools != null) {
            for (Map<String, Object> t : tools) {
                if (t.get("function") instanceof Map<?, ?> f && f.get("name") instanceof String n) names.add(n);
            }
        }
        return names;
    }
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    static ChatRequest read(JsonNode root) {
        Boolean logprobs = Fields.bool(root, "logprobs");
        Long top = Fields.integer(root, "top_logprobs", 0, 20);
        if (top != null && top > 0 && !Boolean.TRUE.equals(logprobs)) {
            throw ApiException.invalidParam("top_logprobs", "top_logprobs requires logprobs to be true");
        }
        GenerationParams params = GenerationParams.read(root, Boolean.TRUE.equals(logprobs), top == null ? 0 : top.intValue());
        checkResponseFormat(root);

        JsonNode msgs = root.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiException.invalidParam("messages", "messages is required");
        if (!msgs.isArray() || msgs.isEmpty()) throw ApiException.invalidParam("messages", "messages must be a non-empty array");
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) messages.add(message(msgs.get(i), "messages[" + i + "]"));

        List<Map<String, Object>> tools = tools(root);
        boolean useTools = !tools.isEmpty();
        if (Fields.given(root, "tool_choice")) {
            JsonNode tc = root.get("tool_choice");
            if (tc.isTextual() && tc.asText().equals("none")) {
                useTools = false;
            } else if (!(tc.isTextual() && tc.asText().equals("auto"))) {
                throw ApiException.unsupported("tool_choice", "tool_choice must be \"auto\" or \"none\": this server cannot force a tool call");
            }
        }
        return new ChatRequest(params, messages, useTools ? tools : null, useTools);
    }

    private static void checkResponseFormat(JsonNode root) {
        if (!Fields.given(root, "response_format")) return;
        JsonNode rf = root.get("response_format");
        if (!rf.isObject() || !rf.path("type").isTextual()) throw ApiException.invalidParam("response_format", "response_format must be an object with a type");
        if (!rf.get("type").asText().equals("text")) {
            throw ApiException.unsupported("response_format", "response_format type '" + rf.get("type").asText() + "' is not supported; only 'text'");
        }
    }

    private static Map<String, Object> message(JsonNode m, String where) {
        if (!m.isObject()) throw ApiException.invalidParam(where, where + " must be an object");
        String role = Fields.string(m, "role");
        if (role == null) throw ApiException.invalidParam(where + ".role", where + ".role is required");
        if (!ROLES.contains(role)) throw ApiException.invalidParam(where + ".role", where + ".role must be one of " + ROLES.stream().sorted().toList() + ", got '" + role + "'");
        Map<String, Object> out = new LinkedHashMap<>();
        // Templates know system, not OpenAI's newer "developer" (same meaning).
        out.put("role", role.equals("developer") ? "system" : role);
        out.put("content", content(m.get("content"), where + ".content"));
        if (Fields.given(m, "name")) out.put("name", Fields.string(m, "name"));
        if (role.equals("tool")) {
            if (Fields.given(m, "tool_call_id")) out.put("tool_call_id", Fields.string(m, "tool_call_id"));
        }
        if (role.equals("assistant") && Fields.given(m, "tool_calls")) {
            JsonNode calls = m.get("tool_calls");
            if (!calls.isArray()) throw ApiException.invalidParam(where + ".tool_calls", where + ".tool_calls must be an array");
            List<Map<String, Object>> list = new ArrayList<>();
            for (int k = 0; k < calls.size(); k++) {
                String cw = where + ".tool_calls[" + k + "]";
                JsonNode c = calls.get(k);
                JsonNode fn = c.path("function");
                if (!fn.path("name").isTextual()) throw ApiException.invalidParam(cw + ".function.name", cw + ".function.name is required");
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", fn.get("name").asText());
                function.put("arguments", arguments(fn.get("arguments")));
                Map<String, Object> call = new LinkedHashMap<>();
                if (c.path("id").isTextual()) call.put("id", c.get("id").asText());
                call.put("type", "function");
                call.put("function", function);
                list.add(call);
            }
            out.put("tool_calls", list);
        }
        return out;
    }

    /** Arguments as an object when they are a JSON object text (as templates expect), else as given. */
    private static Object arguments(JsonNode a) {
        if (a == null || a.isNull()) return Map.of();
        if (a.isObject()) return Json.MAPPER.convertValue(a, MAP);
        if (a.isTextual()) {
            try {
                JsonNode parsed = Json.MAPPER.readTree(a.asText());
                if (parsed != null && parsed.isObject()) return Json.MAPPER.convertValue(parsed, MAP);
            } catch (Exception ignored) {
                // not JSON: pass the text through
            }
            return a.asText();
        }
        return a.toString();
    }

    /** A string, null, or an array of parts of which only text parts are supported. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return null;
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                String type = part.path("type").asText("");
                if (!type.equals("text")) {
                    throw ApiException.unsupported(where + "[" + i + "].type", where + "[" + i + "].type '" + type + "' is not supported; only text parts");
                }
                if (!part.path("text").isTextual()) throw ApiException.invalidParam(where + "[" + i + "].text", "a text part needs a string text");
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalidParam(where, where + " must be a string, an array of text parts, or null");
    }

    private static List<Map<String, Object>> tools(JsonNode root) {
        if (!Fields.given(root, "tools")) return List.of();
        JsonNode t = root.get("tools");
        if (!t.isArray()) throw ApiException.invalidParam("tools", "tools must be an array");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            JsonNode tool = t.get(i);
            if (!tool.path("type").asText("").equals("function")) {
                throw ApiException.unsupported("tools[" + i + "].type", "only tools of type 'function' are supported");
            }
            if (!tool.path("function").path("name").isTextual()) {
                throw ApiException.invalidParam("tools[" + i + "].function.name", "tools[" + i + "].function.name is required");
            }
            out.add(Json.MAPPER.convertValue(tool, MAP));
        }
        return out;
    }
}
