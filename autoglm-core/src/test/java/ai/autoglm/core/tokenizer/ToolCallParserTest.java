package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool-call parsing for GLM-4 (name line + JSON, segments split by {@code <|assistant|>}), Qwen
 * ({@code <tool_call>} blocks) and Llama 3.1 (bare JSON). Expected arguments are compared as JSON trees parsed by a
 * plain ObjectMapper here; malformed or hostile outputs must come back unchanged as content, without exceptions.
 */
class ToolCallParserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final GlmToolCallParser glm = new GlmToolCallParser();
    private final QwenToolCallParser qwen = new QwenToolCallParser();
    private final Llama3ToolCallParser llama = new Llama3ToolCallParser();

    private static JsonNode tree(String json) throws Exception {
        return JSON.readTree(json);
    }

    private static void assertCall(ToolCall call, String name, String expectedArgs) throws Exception {
        assertThat(call.id()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.name()).isEqualTo(name);
        assertThat(tree(call.argumentsJson())).isEqualTo(tree(expectedArgs));
        assertThat(call.toOpenAi()).containsEntry("type", "function").containsEntry("id", call.id());
    }

    private static void assertPlain(ToolCallParser p, String output) {
        ToolCallParser.Parsed r = p.parse(output, null);
        assertThat(r.toolCalls()).as(output).isEmpty();
        assertThat(output.strip()).contains(r.content().strip());
        assertThat(r.content().strip()).isEqualTo(output.strip());
    }

    @Test
    void glmSingleCallWithChineseArguments() throws Exception {
        ToolCallParser.Parsed r = glm.parse("get_weather\n{\"city\": \"北京\", \"days\": 3, \"opts\": {\"unit\": \"°C\"}}", null);
        assertThat(r.content()).isEmpty();
        assertThat(r.toolCalls()).hasSize(1);
        assertCall(r.toolCalls().get(0), "get_weather", "{\"city\":\"北京\",\"days\":3,\"opts\":{\"unit\":\"°C\"}}");
        assertThat(r.toolCalls().get(0).argumentsJson()).contains("北京"); // kept as text, not \\u-escaped
    }

    @Test
    void glmTextAnswerAndMultipleCalls() throws Exception {
        ToolCallParser.Parsed text = glm.parse("\n北京今天晴，25°C。\n明天多云。", null);
        assertThat(text.toolCalls()).isEmpty();
        assertThat(text.content()).isEqualTo("北京今天晴，25°C。\n明天多云。");

        ToolCallParser.Parsed two = glm.parse(
                "get_weather\n{\"city\": \"上海\"}<|assistant|>get_time\n{\"tz\": \"Asia/Shanghai\"}", Set.of("get_weather", "get_time"));
        assertThat(two.toolCalls()).hasSize(2);
        assertCall(two.toolCalls().get(0), "get_weather", "{\"city\":\"上海\"}");
        assertCall(two.toolCalls().get(1), "get_time", "{\"tz\":\"Asia/Shanghai\"}");
        assertThat(two.toolCalls().get(0).id()).isNotEqualTo(two.toolCalls().get(1).id());

        ToolCallParser.Parsed mixed = glm.parse("\n我来查一下。<|assistant|>get_weather\n{\"city\": \"广州\"}", null);
        assertThat(mixed.content()).isEqualTo("我来查一下。");
        assertCall(mixed.toolCalls().get(0), "get_weather", "{\"city\":\"广州\"}");
    }

    @Test
    void glmMalformedAndHostileOutputsStayContent() {
        for (String out : List.of(
                "get_weather\n{\"city\": ",                        // truncated JSON
                "get_weather\n{\"city\": \"北京\"} trailing",        // trailing garbage
                "get_weather\n[1, 2]",                             // not an object
                "get_weather\n{\"a\": 1, \"a\": 2}",               // duplicate key
                "rm -rf /\n{}",                                     // not a function name
                "__import__('os').system('x')\n{}",
                "python\n```python\nprint(1)\n```",               // code, not JSON arguments
                "get_weather\n" + "[".repeat(5000) + "]".repeat(5000),
                "get_weather\n{\"n\": " + "9".repeat(5000) + "}",
                "Hello\nWorld",
                "get_weather\n{}<|assistant|>bad name\n{}",
                "\u0000\n{}")) {
            assertPlain(glm, out);
        }
        assertThat(glm.parse("delete_all\n{}", Set.of("get_weather")).toolCalls()).isEmpty(); // not offered
        assertThat(glm.parse(null, null).content()).isEmpty();
        String huge = "f\n{\"s\": \"" + "x".repeat(ToolCallJson.MAX_OUTPUT_CHARS) + "\"}";
        assertThat(glm.parse(huge, null).toolCalls()).isEmpty();
    }

    @Test
    void qwenToolCallBlocks() throws Exception {
        ToolCallParser.Parsed r = qwen.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"深圳\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", null);
        assertThat(r.content()).isEqualTo("Let me check.");
        assertThat(r.toolCalls()).hasSize(2);
        assertCall(r.toolCalls().get(0), "get_weather", "{\"city\":\"深圳\"}");
        assertCall(r.toolCalls().get(1), "get_time", "{}");
        for (String out : List.of("no calls here", "<tool_call>{\"name\": \"f\", \"arguments\": {}}",
                "<tool_call>{\"name\": \"f\", \"arguments\": \"{}\"}</tool_call>", "<tool_call>{\"arguments\": {}}</tool_call>",
                "<tool_call>not json</tool_call>", "<tool_call>{\"name\": \"a b\", \"arguments\": {}}</tool_call>")) {
            assertPlain(qwen, out);
        }
    }

    @Test
    void llama3JsonCalls() throws Exception {
        ToolCallParser.Parsed r = llama.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"San Francisco; CA\"}}", null);
        assertThat(r.content()).isEmpty();
        assertCall(r.toolCalls().get(0), "get_weather", "{\"city\":\"San Francisco; CA\"}");
        ToolCallParser.Parsed two = llama.parse("<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": [1, {\"y\": \";\"}]}}", null);
        assertThat(two.toolCalls()).extracting(ToolCall::name).containsExactly("a", "b");
        assertCall(two.toolCalls().get(1), "b", "{\"x\":[1,{\"y\":\";\"}]}");
        for (String out : List.of("The weather is fine.", "{\"name\": \"f\"}", "{\"name\": \"f\", \"parameters\": {}} extra",
                "{\"name\": 3, \"parameters\": {}}", "{")) {
            assertPlain(llama, out);
        }
    }

    @Test
    void idsAreUnique() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            ids.add(glm.parse("f\n{}", null).toolCalls().get(0).id());
        }
        assertThat(ids).hasSize(200);
    }
}
