package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Qwen2.5/Qwen3 (Hermes-style) tool calls: each call is {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
 * in the text (Qwen's chat_template instructs exactly this; vLLM's hermes tool parser reads it the same way). The
 * text outside the blocks is the content. Any malformed block (unclosed, not JSON, no name, arguments not an
 * object) makes the whole output plain content.
 */
public final class QwenToolCallParser implements ToolCallParser {
    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";

    @Override
    public Parsed parse(String output, Set<String> knownTools) {
        if (output == null) {
            return new Parsed("", List.of());
        }
        if (output.length() > ToolCallJson.MAX_OUTPUT_CHARS || !output.contains(OPEN)) {
            return new Parsed(output, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int pos = 0;
        while (true) {
            int open = output.indexOf(OPEN, pos);
            if (open < 0) {
                text.append(output, pos, output.length());
                break;
            }
            text.append(output, pos, open);
            int close = output.indexOf(CLOSE, open + OPEN.length());
            if (close < 0) {
                return new Parsed(output, List.of());
            }
            JsonNode call = ToolCallJson.object(output.substring(open + OPEN.length(), close));
            JsonNode name = call == null ? null : call.get("name");
            JsonNode args = call == null ? null : call.has("arguments") ? call.get("arguments") : call.get("parameters");
            if (name == null || !name.isTextual() || !ToolCallJson.acceptableName(name.asText(), knownTools)
                    || args == null || !args.isObject()) {
                return new Parsed(output, List.of());
            }
            calls.add(new ToolCall(ToolCallJson.newId(), name.asText(), ToolCallJson.compact(args)));
            pos = close + CLOSE.length();
        }
        return new Parsed(text.toString().strip(), calls);
    }
}
