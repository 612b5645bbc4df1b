package ai.autoglm.server.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;

/**
 * The Hermes / Qwen2.5 / Qwen3 format: each call is {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}
 * (the Qwen2.5 chat template's tool instructions; vLLM {@code hermes_tool_parser.py}). A last call whose closing tag
 * is missing (generation stopped at the end-of-turn token right after the JSON) is still taken when its JSON is
 * complete. A block whose JSON is not an object with a string {@code name} stays in the content.
 */
public final class HermesToolCallParser implements ToolCallParser {
    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String startMarker() {
        return OPEN;
    }

    @Override
    public Parsed parse(String output) {
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        int at = 0;
        while (true) {
            int open = output.indexOf(OPEN, at);
            if (open < 0) {
                content.append(output, at, output.length());
                break;
            }
            int bodyStart = open + OPEN.length();
            int close = output.indexOf(CLOSE, bodyStart);
            int bodyEnd = close < 0 ? output.length() : close;
            ToolCall call = toCall(output.substring(bodyStart, bodyEnd));
            if (call == null) {
                content.append(output, at, close < 0 ? output.length() : close + CLOSE.length());
            } else {
                content.append(output, at, open);
                calls.add(call);
            }
            if (close < 0) break;
            at = close + CLOSE.length();
        }
        String text = content.toString().strip();
        return new Parsed(text.isEmpty() ? null : text, calls);
    }

    private static ToolCall toCall(String body) {
        JsonNode node;
        try {
            node = JSON.readTree(body.strip());
        } catch (JsonProcessingException e) {
            return null;
        }
        if (node == null || !node.isObject() || !node.path("name").isTextual()) return null;
        JsonNode args = node.get("arguments");
        if (args == null || args.isNull()) args = node.get("parameters");
        String argumentsJson;
        if (args == null || args.isNull()) {
            argumentsJson = "{}";
        } else if (args.isTextual()) {
            argumentsJson = args.asText(); // some models write the arguments as a JSON string already
        } else {
            argumentsJson = args.toString();
        }
        return new ToolCall(node.get("name").asText(), argumentsJson);
    }
}
