package ai.autoglm.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real GLM chat templates (copies in src/test/resources/chat-templates, sources in the README there) rendered
 * by {@link ChatTemplate} and by CPython's jinja2 as transformers configures it ({@link Jinja2Reference}): the
 * output must be identical, for conversations with system, user, assistant, tool-call (assistant with
 * {@code metadata}) and {@code observation} turns, with and without tools and the generation prompt.
 */
class GlmChatTemplatesTest {

    static String template(String name) {
        Path p = Path.of("src/test/resources/chat-templates", name);
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + p.toAbsolutePath(), e);
        }
    }

    static Map<String, Object> msg(String role, String content, Object... more) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    static Map<String, Object> weatherTool() {
        Map<String, Object> city = new LinkedHashMap<>();
        city.put("type", "string");
        city.put("description", "城市名称, e.g. 北京");
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", Map.of("city", city));
        params.put("required", List.of("city"));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("description", "查询天气 \"quoted\" \\ back\tslash");
        fn.put("parameters", params);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        return tool;
    }

    record Conv(String name, List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
    }

    private static void assertSameAsJinja2(String templateName, List<Conv> convs) {
        String source = template(templateName);
        ChatTemplate chat = new ChatTemplate(source, null, "<|endoftext|>");
        List<Jinja2Reference.Case> cases = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Conv c : convs) {
            for (boolean agp : new boolean[] {true, false}) {
                cases.add(new Jinja2Reference.Case(source, c.messages(), c.tools(), agp, null, "<|endoftext|>", null, null));
                names.add(templateName + " / " + c.name() + " / agp=" + agp);
            }
        }
        List<Jinja2Reference.Result> expected = Jinja2Reference.render(cases);
        for (int i = 0; i < cases.size(); i++) {
            Jinja2Reference.Case c = cases.get(i);
            assertThat(expected.get(i).error()).as(names.get(i)).isNull();
            String actual = chat.renderRaw(c.messages(), c.addGenerationPrompt(), c.tools(), null);
            assertThat(actual).as(names.get(i)).isEqualTo(expected.get(i).text());
        }
    }

    @Test
    void glm4ChatTemplate() {
        List<Map<String, Object>> allTools = List.of(weatherTool(), Map.of("type", "python"),
                Map.of("type", "simple_browser"), Map.of("type", "cogview"));
        List<Conv> convs = List.of(
                new Conv("plain", List.of(msg("system", "You are a helpful assistant"), msg("user", "Hello"),
                        msg("assistant", "Hi there"), msg("user", "你好，今天北京天气怎么样？")), null),
                new Conv("tools on the system message, call and observation", List.of(
                        msg("system", "", "tools", allTools),
                        msg("user", "北京天气如何？"),
                        msg("assistant", "{\"city\": \"北京\"}", "metadata", "get_weather"),
                        msg("observation", "{\"temperature\": 25, \"condition\": \"晴\"}"),
                        msg("assistant", "北京今天晴，25°C。"),
                        msg("user", "谢谢")), null),
                new Conv("empty contents are skipped", List.of(msg("user", ""), msg("user", "x"),
                        msg("assistant", "")), null));
        assertSameAsJinja2("glm-4-9b-chat.jinja", convs);
        // What the model sees: the GLM turn markers in order.
        String text = new ChatTemplate(template("glm-4-9b-chat.jinja"), null, null)
                .renderRaw(convs.get(1).messages(), true, null, null);
        assertThat(text).startsWith("[gMASK]<sop><|system|>\n你是一个名为 ChatGLM 的人工智能助手。")
                .contains("## get_weather\n\n{\n    \"name\": \"get_weather\",")
                .contains("<|assistant|>get_weather\n{\"city\": \"北京\"}<|observation|>\n{\"temperature\"")
                .endsWith("<|user|>\n谢谢<|assistant|>");
    }

    @Test
    void chatglm3ChatTemplate() {
        assertSameAsJinja2("chatglm3-6b.jinja", List.of(
                new Conv("plain", List.of(msg("system", "You are a helpful assistant"), msg("user", "Hello"),
                        msg("assistant", "   I am an assistant   "), msg("user", "再见")), null),
                new Conv("observation", List.of(msg("user", "天气"), msg("assistant", "get_weather\n{\"city\": \"上海\"}"),
                        msg("observation", "{\"t\": 20}")), null)));
    }

    @Test
    void glmZ1ChatTemplate() {
        assertSameAsJinja2("glm-z1-0414.jinja", List.of(
                new Conv("tools variable, metadata call, observation, think stripped", List.of(
                        msg("system", "系统提示"),
                        msg("user", "  北京天气？ "),
                        msg("assistant", "{\"city\": \"北京\"}", "metadata", "get_weather"),
                        msg("observation", "{\"temperature\": 25}"),
                        msg("assistant", "<think>用户问天气</think>\n\n北京 25°C。"),
                        msg("user", "ok")), List.of(weatherTool())),
                new Conv("no tools", List.of(msg("user", "hi")), null)));
    }

    static Map<String, Object> call(String id, String name, Map<String, Object> arguments) {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("arguments", arguments);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", id);
        c.put("type", "function");
        c.put("function", fn);
        return c;
    }

    /**
     * Issue 21: zai-org/GLM-4.5's template (glm-4.5.jinja; source in the README there) against jinja2, with the
     * {@code enable_thinking} switch unset, true and false: system prompt, multi-turn, tools declared, assistant tool
     * calls (string, number, object and Chinese argument values: the template writes strings raw, the rest as
     * JSON), tool results (consecutive ones share one observation turn), reasoning as {@code reasoning_content} and
     * as {@code <think>} inside the content, kept only after the last user turn.
     */
    @Test
    void glm45ChatTemplate() {
        String source = template("glm-4.5.jinja");
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("city", "北京");
        args.put("days", 2);
        args.put("options", Map.of("unit", "celsius"));
        args.put("note", "say \"hi\"\nthen <b>bye</b>");
        List<Map<String, Object>> tools = List.of(weatherTool());
        List<Conv> convs = List.of(
                new Conv("system + multi-turn", List.of(msg("system", "You are a helpful assistant"), msg("user", "Hello"),
                        msg("assistant", "Hi there"), msg("user", "你好，今天北京天气怎么样？")), null),
                new Conv("tools declared", List.of(msg("system", "Be brief."), msg("user", "北京天气如何？")), tools),
                new Conv("tool calls, results, answer", List.of(msg("user", "北京天气如何？"),
                        msg("assistant", "Let me check.", "tool_calls", List.of(call("c1", "get_weather", args),
                                call("c2", "get_weather", Map.of("city", "Lima")))),
                        msg("tool", "{\"temperature\": 25}", "tool_call_id", "c1"),
                        msg("tool", "18", "tool_call_id", "c2"),
                        msg("assistant", "25 and 18.", "reasoning_content", "\nBoth results are in.\n"),
                        msg("user", "thanks")), tools),
                new Conv("reasoning in history (field and think tags)", List.of(msg("user", "Q1"),
                        msg("assistant", "<think>\nold reasoning\n</think>\n\nA1"), msg("user", "Q2"),
                        msg("assistant", "", "reasoning_content", "current reasoning",
                                "tool_calls", List.of(call("c9", "get_weather", Map.of("city", "Oslo")))),
                        msg("tool", "rain"),
                        msg("assistant", "<think>after the tool</think>Bring an umbrella.")), tools),
                new Conv("content with /nothink", List.of(msg("user", "quick /nothink")), null));
        ChatTemplate chat = new ChatTemplate(source, null, "<|endoftext|>");
        List<Jinja2Reference.Case> cases = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Map<String, Object>> switches = new ArrayList<>();
        switches.add(null);
        switches.add(Map.of("enable_thinking", true));
        switches.add(Map.of("enable_thinking", false));
        for (Conv c : convs) {
            for (Map<String, Object> extra : switches) {
                for (boolean agp : new boolean[] {true, false}) {
                    cases.add(new Jinja2Reference.Case(source, c.messages(), c.tools(), agp, null, "<|endoftext|>", extra, null));
                    names.add("glm-4.5 / " + c.name() + " / " + extra + " / agp=" + agp);
                }
            }
        }
        List<Jinja2Reference.Result> expected = Jinja2Reference.render(cases);
        for (int i = 0; i < cases.size(); i++) {
            Jinja2Reference.Case c = cases.get(i);
            assertThat(expected.get(i).error()).as(names.get(i)).isNull();
            assertThat(chat.renderRaw(c.messages(), c.addGenerationPrompt(), c.tools(), c.extra())).as(names.get(i))
                    .isEqualTo(expected.get(i).text());
        }
        // What the model sees (independent of both renderers): XML-style calls, one observation turn for two
        // results, reasoning only after the last user turn, and the empty think block that turns thinking off.
        String calls = chat.renderRaw(convs.get(2).messages(), true, tools, null);
        assertThat(calls).startsWith("[gMASK]<sop><|system|>\n# Tools\n")
                .contains("<|assistant|>\n<think></think>\nLet me check.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n"
                        + "<arg_value>北京</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n")
                .contains("<arg_value>{\"unit\": \"celsius\"}</arg_value>")
                .contains("</tool_call><|observation|>\n<tool_response>\n{\"temperature\": 25}\n</tool_response>\n<tool_response>\n18\n</tool_response>")
                .endsWith("<|assistant|>\n<think></think>\n25 and 18.<|user|>\nthanks<|assistant|>");
        String history = chat.renderRaw(convs.get(3).messages(), false, tools, null);
        assertThat(history).contains("<|assistant|>\n<think></think>\nA1").doesNotContain("old reasoning")
                .contains("<think>current reasoning</think>").endsWith("<think>after the tool</think>\nBring an umbrella.");
        assertThat(chat.renderRaw(convs.get(0).messages(), true, null, Map.of("enable_thinking", false)))
                .endsWith("<|user|>\n你好，今天北京天气怎么样？/nothink<|assistant|>\n<think></think>");
    }

    /** GLM-4's own shapes for an OpenAI conversation: tools on a leading system turn, calls as metadata turns, results as observation. */
    static List<Map<String, Object>> toGlmShapes(List<Map<String, Object>> openAi, List<Map<String, Object>> tools) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (tools != null) out.add(msg("system", "", "tools", tools));
        for (Map<String, Object> m : openAi) {
            String role = (String) m.get("role");
            if (role.equals("tool")) {
                out.add(msg("observation", (String) m.get("content")));
            } else if (role.equals("assistant") && m.get("tool_calls") != null) {
                if (m.get("content") != null) out.add(msg("assistant", (String) m.get("content")));
                for (Object c : (List<?>) m.get("tool_calls")) {
                    Map<?, ?> fn = (Map<?, ?>) ((Map<?, ?>) c).get("function");
                    Object args = fn.get("arguments");
                    // json.dumps with transformers' tojson defaults (ensure_ascii False, ", " and ": ")
                    String json = args instanceof String str ? str : toPythonJson(args);
                    out.add(msg("assistant", json, "metadata", fn.get("name")));
                }
            } else {
                out.add(m);
            }
        }
        return out;
    }

    private static String toPythonJson(Object v) {
        if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (sb.length() > 1) sb.append(", ");
                sb.append(toPythonJson(e.getKey())).append(": ").append(toPythonJson(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (v instanceof String str) return "\"" + str.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        return String.valueOf(v);
    }

    /**
     * Issue 15 item 19: the project's GLM-4 template (the bundled model's) renders an OpenAI tool round trip (tools,
     * an assistant turn with tool_calls and no content, a tool result, the answer, the next question) exactly as
     * GLM-4's own template renders the same conversation in GLM's shapes, both rendered by CPython's jinja2; and
     * Jinjava's rendering of it is byte-identical to jinja2's.
     */
    @Test
    void projectGlm4TemplateRendersToolRoundTripsAsGlm4Does() {
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", "call_1");
        call.put("type", "function");
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("city", "北京");
        args.put("days", 2);
        call.put("function", Map.of("name", "get_weather", "arguments", args));
        Map<String, Object> stringCall = new LinkedHashMap<>();
        stringCall.put("type", "function");
        stringCall.put("function", Map.of("name", "get_weather", "arguments", "{\"city\": \"Lima\"}"));
        List<Map<String, Object>> tools = List.of(weatherTool());
        List<Conv> convs = List.of(
                new Conv("first round", List.of(msg("system", "Be brief."), msg("user", "北京天气如何？")), tools),
                new Conv("second round", List.of(msg("user", "北京天气如何？"),
                        msg("assistant", null, "tool_calls", List.of(call)),
                        msg("tool", "{\"temperature\": 25}", "tool_call_id", "call_1")), tools),
                new Conv("text and two calls, then an answer", List.of(msg("user", "both?"),
                        msg("assistant", "Checking.", "tool_calls", List.of(call, stringCall)),
                        msg("tool", "25", "tool_call_id", "call_1"), msg("tool", "18"),
                        msg("assistant", "25 and 18."), msg("user", "thanks")), tools),
                new Conv("no tools", List.of(msg("user", "hi"), msg("assistant", "hello")), null));
        String ours = Glm4ChatTemplate.TEMPLATE;
        String glm4 = template("glm-4-9b-chat.jinja");
        List<Jinja2Reference.Case> cases = new ArrayList<>();
        for (Conv c : convs) {
            for (boolean agp : new boolean[] {true, false}) {
                cases.add(new Jinja2Reference.Case(ours, c.messages(), c.tools(), agp, null, "<|endoftext|>", null, null));
                cases.add(new Jinja2Reference.Case(glm4, toGlmShapes(c.messages(), c.tools()), null, agp, null, "<|endoftext|>", null, null));
            }
        }
        List<Jinja2Reference.Result> expected = Jinja2Reference.render(cases);
        ChatTemplate chat = new ChatTemplate(ours, null, "<|endoftext|>");
        for (int i = 0; i < cases.size(); i += 2) {
            Jinja2Reference.Case c = cases.get(i);
            String name = convs.get(i / 4).name() + " / agp=" + c.addGenerationPrompt();
            assertThat(expected.get(i).error()).as(name).isNull();
            assertThat(expected.get(i + 1).error()).as(name).isNull();
            assertThat(expected.get(i).text()).as("ours vs GLM-4's template, jinja2: " + name).isEqualTo(expected.get(i + 1).text());
            assertThat(chat.renderRaw(c.messages(), c.addGenerationPrompt(), c.tools(), null)).as("Jinjava vs jinja2: " + name)
                    .isEqualTo(expected.get(i).text());
        }
        // what the issue saw: the second round used to render as "<|assistant|>\n<|assistant|>\n"
        String second = chat.renderRaw(convs.get(1).messages(), true, tools, null);
        assertThat(second).contains("# 可用工具\n## get_weather\n\n{\n    \"name\": \"get_weather\",")
                .endsWith("<|user|>\n北京天气如何？<|assistant|>get_weather\n{\"city\": \"北京\", \"days\": 2}<|observation|>\n{\"temperature\": 25}<|assistant|>");
    }

    /** The bundled model carries this template (models/default/model.gguf, tokenizer.chat_template). */
    @Test
    void bundledModelCarriesTheProjectGlm4Template() throws IOException {
        Path gguf = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf");
        try (var file = ai.autoglm.core.format.gguf.GgufFile.open(gguf)) {
            assertThat(file.metadata().get("tokenizer.chat_template").asString()).isEqualTo(Glm4ChatTemplate.TEMPLATE);
        }
    }
}
