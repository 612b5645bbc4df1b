package ai.autoglm.core.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One function call the model asked for, in the OpenAI chat completions shape.
 *
 * @param id            the call's id ({@code call_...}), echoed back by the client in the tool message
 * @param name          the function name
 * @param argumentsJson the arguments as a compact JSON object string (OpenAI sends arguments as a string)
 */
public record ToolCall(String id, String name, String argumentsJson) {

    /** {@code {"id": ..., "type": "function", "function": {"name": ..., "arguments": "..."}}}. */
    public Map<String, Object> toOpenAi() {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("arguments", argumentsJson);
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", id);
        call.put("type", "function");
        call.put("function", fn);
        return call;
    }
}
