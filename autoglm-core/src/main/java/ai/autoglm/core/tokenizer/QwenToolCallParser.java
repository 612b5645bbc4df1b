package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Set;

/**
 * Qwen2.5/Qwen3 (Hermes-style) tool calls: each call is {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
 * in the text (Qwen's chat_template instructs exactly this; vLLM's hermes tool parser reads it the same way). The
 * text outside the blocks is the content. Any malformed block (unclosed, not JSON, no name, arguments not an
 * object) makes the whole output plain content.
 */
public final class QwenToolCallParser implements ToolCallParser {
    @Override
    public Parsed parse(String output, Set<String> knownTools) {
        return TaggedToolCalls.parse(output, body -> {
            JsonNode call = ToolCallJson.object(body);
            JsonNode name = call == null ? null : call.get("name");
            JsonNode args = call == null ? null : call.has("arguments") ? call.get("arguments") : call.get("parameters");
            if (name == null || !name.isTextual() || !ToolCallJson.acceptableName(name.asText(), knownTools)
                    || args == null || !args.isObject()) {
                return null;
            }
            return new ToolCall(ToolCallJson.newId(), name.asText(), ToolCallJson.compact(args));
        });
    }
}
