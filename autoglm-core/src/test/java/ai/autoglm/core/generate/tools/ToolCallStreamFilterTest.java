package ai.autoglm.core.generate.tools;

import ai.autoglm.core.tokenizer.ToolCallParser;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Content streams up to a tool call; the call itself is only released, parsed, at the end. */
class ToolCallStreamFilterTest {

    /** Feeds text one character at a time (the worst split) and returns what was streamed. */
    private static String feed(ToolCallStreamFilter f, String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) out.append(f.push(text.substring(i, i + 1)));
        return out.toString();
    }

    @Test
    void qwenContentBeforeTheMarkerStreamsAndThePartialMarkerIsHeldBack() {
        ToolCallStreamFilter f = new ToolCallStreamFilter(ToolCallFormat.named("qwen"), Set.of("get_weather"));
        String streamed = feed(f, "Let me check. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
        assertThat(streamed).isEqualTo("Let me check. ");
        ToolCallParser.Parsed end = f.finish();
        assertThat(end.content()).isEmpty();
        assertThat(end.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("get_weather");
            assertThat(c.argumentsJson()).isEqualTo("{\"city\":\"Paris\"}");
        });
    }

    @Test
    void qwenTextThatOnlyLooksLikeTheMarkerIsReleasedAtTheEnd() {
        ToolCallStreamFilter f = new ToolCallStreamFilter(ToolCallFormat.named("qwen"), Set.of("f"));
        assertThat(feed(f, "a <tool_c")).isEqualTo("a ");
        ToolCallParser.Parsed end = f.finish();
        assertThat(end.content()).isEqualTo("<tool_c");
        assertThat(end.toolCalls()).isEmpty();
    }

    @Test
    void unknownToolNamesAndBrokenJsonStayContent() {
        ToolCallStreamFilter f = new ToolCallStreamFilter(ToolCallFormat.named("qwen"), Set.of("get_weather"));
        String out = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
        feed(f, out);
        ToolCallParser.Parsed end = f.finish();
        assertThat(end.toolCalls()).isEmpty();
        assertThat(end.content()).isEqualTo(out);
    }

    @Test
    void glm4HasNoMarkerSoEverythingWaitsForTheEnd() {
        ToolCallStreamFilter f = new ToolCallStreamFilter(ToolCallFormat.named("glm4"), Set.of("get_weather"));
        assertThat(feed(f, "get_weather\n{\"city\": \"北京\"}")).isEmpty();
        ToolCallParser.Parsed end = f.finish();
        assertThat(end.toolCalls()).singleElement().satisfies(c -> assertThat(c.name()).isEqualTo("get_weather"));

        ToolCallStreamFilter plain = new ToolCallStreamFilter(ToolCallFormat.named("glm4"), Set.of("get_weather"));
        feed(plain, "你好，我是助手。");
        assertThat(plain.finish().content()).isEqualTo("你好，我是助手。");
    }

    @Test
    void theFormatIsReadFromTheChatTemplate() {
        assertThat(ToolCallFormat.forTemplate("... <tool_call> ...").name()).isEqualTo("qwen");
        assertThat(ToolCallFormat.forTemplate("[gMASK]<sop>{% ... %}<|observation|>").name()).isEqualTo("glm4");
        assertThat(ToolCallFormat.forTemplate("<|start_header_id|>ipython<|end_header_id|>").name()).isEqualTo("llama3");
    }

    /**
     * GLM-4.5: content before {@code <tool_call>} streams, the XML call is released parsed at the end; cutting the
     * output at every position (so every tag is split over two pushes) and char by char gives the same result as
     * parsing it whole.
     */
    @Test
    void glm45XmlCallsSplitAtEveryPosition() {
        String out = "I'll look it up.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>北京</arg_value>\n"
                + "<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n<arg_key>zip</arg_key>\n<arg_value>123</arg_value>\n</tool_call>";
        List<Map<String, Object>> tools = List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "parameters", Map.of("type", "object", "properties", Map.of("zip", Map.of("type", "string"))))));
        ToolCallFormat glm45 = ToolCallFormat.named("glm45");
        ToolCallParser.Parsed whole = ToolCallStreamFilter.parseAll(glm45, out, Set.of("get_weather"), tools);
        assertThat(whole.content()).isEqualTo("I'll look it up.");
        assertThat(whole.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("get_weather");
            assertThat(c.argumentsJson()).isEqualTo("{\"city\":\"北京\",\"days\":2,\"zip\":\"123\"}");
        });
        for (int i = 0; i <= out.length(); i++) {
            ToolCallStreamFilter f = new ToolCallStreamFilter(glm45, Set.of("get_weather"), tools);
            String streamed = f.push(out.substring(0, i)) + f.push(out.substring(i));
            ToolCallParser.Parsed end = f.finish();
            assertThat(streamed + end.content()).as("cut at %d", i).isEqualTo("I'll look it up.\n");
            assertThat(end.toolCalls()).as("cut at %d", i).hasSize(1);
            assertThat(end.toolCalls().getFirst().argumentsJson()).isEqualTo(whole.toolCalls().getFirst().argumentsJson());
        }
        ToolCallStreamFilter f = new ToolCallStreamFilter(glm45, Set.of("get_weather"), tools);
        assertThat(feed(f, out)).isEqualTo("I'll look it up.\n");
        assertThat(f.finish().toolCalls()).hasSize(1);
    }

    @Test
    void formatsAreReadFromTheTemplates() {
        assertThat(ToolCallFormat.forTemplate("<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key><|observation|>").name()).isEqualTo("glm45");
        assertThat(ToolCallFormat.forTemplate("<tool_call>\n{\"name\": <function-name>").name()).isEqualTo("qwen");
        assertThat(ToolCallFormat.named("glm4_moe").name()).isEqualTo("glm45");
    }
}
