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
 *
 * @param forcedTools    the tools one of which must be called ({@code tool_choice} "required": all of them; a named
 *                       function: that one), or null when the model chooses
 * @param templateKwargs extra variables for the chat template ({@code chat_template_kwargs}, as vLLM accepts them,
 *                       e.g. {@code {"enable_thinking": false}} for Qwen3 and GLM-4.5); empty when none
 */
record ChatRequest(GenerationParams params, List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                   boolean parseToolCalls, List<Map<String, Object>> forcedTools, Map<String, Object> templateKwargs) {

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

        JsonNode msgs = root.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiException.invalidParam("messages", "messages is required");
        if (!msgs.isArray() || msgs.isEmpty()) throw ApiException.invalidParam("messages", "messages must be a non-empty array");
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) messages.add(message(msgs.get(i), "messages[" + i + "]"));

        List<Map<String, Object>> tools = tools(root);
        boolean useTools = !tools.isEmpty();
        List<Map<String, Object>> forced = null;
        if (Fields.given(root, "tool_choice")) {
            JsonNode tc = root.get("tool_choice");
            String choice = tc.isTextual() ? tc.asText() : null;
            if ("none".equals(choice)) {
                useTools = false;
            } else if ("required".equals(choice)) {
                forced = tools;
            } else if (tc.isObject() && tc.path("type").asText("").equals("function") && tc.path("function").path("name").isTextual()) {
                String name = tc.get("function").get("name").asText();
                forced = tools.stream().filter(t -> name.equals(((Map<?, ?>) t.get("function")).get("name"))).toList();
                if (forced.isEmpty()) throw ApiException.invalidParam("tool_choice", "tool_choice names function '" + name + "', which is not in tools");
            } else if (!"auto".equals(choice)) {
                throw ApiException.invalidParam("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            }
            if (forced != null && forced.isEmpty()) throw ApiException.invalidParam("tool_choice", "tool_choice \"required\" needs tools");
            if (forced != null && params.grammar() != null) {
                throw ApiException.unsupported("tool_choice", "a forced tool call cannot be combined with a JSON response_format");
            }
        }
        return new ChatRequest(params, messages, useTools ? tools : null, useTools, forced, templateKwargs(root));
    }

    /** Variables the request itself sets; a client cannot override them through chat_template_kwargs. */
    private static final Set<String> RESERVED = Set.of("messages", "tools", "documents", "add_generation_prompt",
            "bos_token", "eos_token", "raise_exception", "strftime_now", "namespace", "range", "loop");
    private static final java.util.regex.Pattern IDENTIFIER = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    /**
     * {@code chat_template_kwargs}: an object of at most 16 scalar values (string, number, boolean, null) under
     * identifier names that are not the template's own variables; anything else is a 400 naming the key.
     */
    private static Map<String, Object> templateKwargs(JsonNode root) {
        if (!Fields.given(root, "chat_template_kwargs")) return Map.of();
        JsonNode k = root.get("chat_template_kwargs");
        if (!k.isObject()) throw ApiException.invalidParam("chat_template_kwargs", "chat_template_kwargs must be an object");
        if (k.size() > 16) throw ApiException.invalidParam("chat_template_kwargs", "chat_template_kwargs has more than 16 keys");
        Map<String, Object> out = new LinkedHashMap<>();
        for (var it = k.fields(); it.hasNext(); ) {
            var e = it.next();
            String where = "chat_template_kwargs." + e.getKey();
            if (!IDENTIFIER.matcher(e.getKey()).matches() || RESERVED.contains(e.getKey())) {
                throw ApiException.invalidParam(where, "'" + e.getKey() + "' cannot be set through chat_template_kwargs");
            }
            JsonNode v = e.getValue();
            if (!v.isValueNode()) throw ApiException.invalidParam(where, where + " must be a string, number, boolean or null");
            out.put(e.getKey(), Json.MAPPER.convertValue(v, Object.class));
        }
        return out;
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
        // Reasoning sent back with an earlier answer (vLLM/DeepSeek's reasoning_content): the template decides what
        // of it the model sees (Qwen3 and GLM-4.5 keep it only for the turns after the last user message).
        if (role.equals("assistant") && Fields.given(m, "reasoning_content")) {
            out.put("reasoning_content", Fields.string(m, "reasoning_content"));
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
