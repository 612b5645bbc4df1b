package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Llama 3.1/3.2 JSON tool calls: the whole reply is {@code {"name": ..., "parameters": {...}}} (Meta's
 * llama-models prompt format for JSON-based tool calling; vLLM's llama3_json parser), optionally after
 * {@code <|python_tag|>}, several calls separated by {@code ;}. Anything else is plain content.
 */
public final class Llama3ToolCallParser implements ToolCallParser {
    private static final String PYTHON_TAG = "<|python_tag|>";

    @Override
    public Parsed parse(String output, Set<String> knownTools) {
        if (output == null) {
            return new Parsed("", List.of());
        }
        String t = output.strip();
        if (t.startsWith(PYTHON_TAG)) {
            t = t.substring(PYTHON_TAG.length()).strip();
        }
        if (output.length() > ToolCallJson.MAX_OUTPUT_CHARS || !t.startsWith("{")) {
            return new Parsed(output, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        for (String part : splitTopLevel(t)) {
            JsonNode call = ToolCallJson.object(part);
            JsonNode name = call == null ? null : call.get("name");
            JsonNode args = call == null ? null : call.has("parameters") ? call.get("parameters") : call.get("arguments");
            if (name == null || !name.isTextual() || !ToolCallJson.acceptableName(name.asText(), knownTools)
                    || args == null || !args.isObject()) {
                return new Parsed(output, List.of());
            }
            calls.add(new ToolCall(ToolCallJson.newId(), name.asText(), ToolCallJson.compact(args)));
        }
        return calls.isEmpty() ? new Parsed(output, List.of()) : new Parsed("", calls);
    }

    /** Splits at ';' outside JSON strings and brackets. */
    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        boolean inString = false;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ';' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        String last = s.substring(start);
        if (!last.isBlank() || parts.isEmpty()) {
            parts.add(last);
        }
        return parts;
    }
}
