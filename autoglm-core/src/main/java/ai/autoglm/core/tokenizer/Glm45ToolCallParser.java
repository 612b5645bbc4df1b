package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GLM-4.5 / GLM-4.6 (Glm4MoeForCausalLM) XML-style tool calls, as zai-org/GLM-4.5's chat template instructs and
 * writes them in history:
 * <pre>
 * &lt;tool_call&gt;get_weather
 * &lt;arg_key&gt;city&lt;/arg_key&gt;
 * &lt;arg_value&gt;北京&lt;/arg_value&gt;
 * &lt;/tool_call&gt;</pre>
 * Read as vLLM's {@code glm45} tool parser ({@code vllm/entrypoints/openai/tool_parsers/glm4_moe_tool_parser.py},
 * {@code extract_tool_calls}) reads them: the name is the text after {@code <tool_call>} up to the line end (or the
 * first {@code <arg_key>}), keys and values are stripped, and a value is JSON-decoded unless the offered tool
 * declares that parameter {@code "type": "string"} or the text is not JSON, in which case it stays a string (the
 * template writes strings raw and everything else with {@code tojson}). vLLM's further {@code ast.literal_eval}
 * fallback (Python literals such as {@code True} or {@code 'x'}) is not followed: such values stay strings.
 *
 * <p>Text outside the blocks is the content (stripped). Stricter than vLLM, as this project's other parsers are: a
 * block that is unclosed, has no well-formed name (or names a tool not offered), has text between the pairs, or
 * repeats a key makes the whole output plain content, with no calls.
 */
public final class Glm45ToolCallParser implements ToolCallParser {
    private static final String KEY_OPEN = "<arg_key>";
    private static final String KEY_CLOSE = "</arg_key>";
    private static final String VALUE_OPEN = "<arg_value>";
    private static final String VALUE_CLOSE = "</arg_value>";

    @Override
    public Parsed parse(String output, Set<String> knownTools) {
        return parse(output, knownTools, null);
    }

    @Override
    public Parsed parse(String output, Set<String> knownTools, List<Map<String, Object>> tools) {
        return TaggedToolCalls.parse(output, body -> call(body, knownTools, tools));
    }

    /** One block's inside: the name, then key/value pairs separated by whitespace only; null when malformed. */
    private static ToolCall call(String body, Set<String> knownTools, List<Map<String, Object>> tools) {
        int firstKey = body.indexOf(KEY_OPEN);
        int nameEnd = body.indexOf('\n');
        if (nameEnd < 0 || (firstKey >= 0 && firstKey < nameEnd)) nameEnd = firstKey < 0 ? body.length() : firstKey;
        String name = body.substring(0, nameEnd).strip();
        if (!ToolCallJson.acceptableName(name, knownTools)) return null;
        ObjectNode args = JsonNodeFactory.instance.objectNode();
        int pos = nameEnd;
        while (true) {
            int k = skipWhitespace(body, pos);
            if (k == body.length()) break;
            if (!body.startsWith(KEY_OPEN, k)) return null;
            int kEnd = body.indexOf(KEY_CLOSE, k);
            if (kEnd < 0) return null;
            String key = body.substring(k + KEY_OPEN.length(), kEnd).strip();
            int v = skipWhitespace(body, kEnd + KEY_CLOSE.length());
            if (!body.startsWith(VALUE_OPEN, v)) return null;
            int vEnd = body.indexOf(VALUE_CLOSE, v);
            if (vEnd < 0) return null;
            String value = body.substring(v + VALUE_OPEN.length(), vEnd).strip();
            if (key.isEmpty() || args.has(key)) return null;
            args.set(key, value(value, isStringParameter(tools, name, key)));
            pos = vEnd + VALUE_CLOSE.length();
        }
        return new ToolCall(ToolCallJson.newId(), name, ToolCallJson.compact(args));
    }

    private static JsonNode value(String text, boolean stringParameter) {
        if (!stringParameter) {
            JsonNode decoded = ToolCallJson.value(text);
            if (decoded != null) return decoded;
        }
        return JsonNodeFactory.instance.textNode(text);
    }

    /** Whether the offered tool {@code name} declares parameter {@code key} as {@code "type": "string"} (vLLM's {@code _is_string_type}). */
    private static boolean isStringParameter(List<Map<String, Object>> tools, String name, String key) {
        if (tools == null) return false;
        for (Map<String, Object> tool : tools) {
            if (tool.get("function") instanceof Map<?, ?> fn && name.equals(fn.get("name"))) {
                return fn.get("parameters") instanceof Map<?, ?> params
                        && params.get("properties") instanceof Map<?, ?> props
                        && props.get(key) instanceof Map<?, ?> prop
                        && "string".equals(prop.get("type"));
            }
        }
        return false;
    }

    private static int skipWhitespace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        return i;
    }
}
