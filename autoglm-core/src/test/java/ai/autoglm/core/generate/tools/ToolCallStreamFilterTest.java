package ai.autoglm.core.generate.tools;

import ai.autoglm.core.tokenizer.ToolCallParser;
import org.junit.jupiter.api.Test;

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
}
