package ai.autoglm.server;

import static org.assertj.core.api.Assertions.assertThat;

import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21: reasoning models through the server, on scripted models (real engines whose fixture weights emit a known
 * token sequence) that carry the real chat templates of Qwen3 and GLM-4.5 (autoglm-core's chat-templates copies).
 * The scripts split {@code <think>}, {@code </think>} and the tool-call tags over several tokens. Checked through raw
 * HTTP (exact fields, streamed and not) and through the real OpenAI Java client: {@code reasoning_content} holds the
 * think block, {@code content} the answer without it, GLM-4.5's XML calls and Qwen3's JSON calls come out as
 * {@code tool_calls}, and reasoning sent back in history reaches the model only as the templates keep it.
 */
class ReasoningServerTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static OpenAIClient openai;

    static final Path TEMPLATES = Path.of("../autoglm-core/src/test/resources/chat-templates");
    static final String QWEN_REASONING = "Let me think about 北京.\n\nTwo steps.";

    /** A chain through the given pieces (extra tokens) from {@code startToken}, ending with {@code <|im_end|>}. */
    static Path scripted(String name, int startToken, List<String> pieces, String template) {
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        int prev = startToken;
        for (int i = 0; i < pieces.size(); i++) {
            chain.put(prev, ModelFixtures.VOCAB_SIZE + i);
            prev = ModelFixtures.VOCAB_SIZE + i;
        }
        chain.put(prev, ModelFixtures.TOKENS.indexOf(ModelFixtures.IM_END));
        return ScriptedModel.write(dir.resolve(name + ".gguf"), pieces, chain, 2048, template);
    }

    static String template(String file) {
        try {
            return Files.readString(TEMPLATES.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("chat template copy missing: " + TEMPLATES.resolve(file).toAbsolutePath(), e);
        }
    }

    @BeforeAll
    static void start() {
        String qwen3 = template("qwen3.jinja");
        // Qwen3's generation prompt ends with "\n"; GLM-4.5's with "<|assistant|>", whose last byte token is '>'
        Path qwen = scripted("qwen3", '\n', List.of("<th", "ink>\n", "Let me think", " about 北京.\n", "\nTwo steps.\n</th",
                "ink>", "\n\n", "The answer", " is 42."), qwen3);
        Path qwenTools = scripted("qwen3-tools", '\n', List.of("<think>\nI should call", " get_weather.\n</think>\n\n",
                "<tool_", "call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"), qwen3);
        Path glm = scripted("glm45", '>', List.of("\n<thi", "nk>Need the", " weather.</think", ">\nChecking.\n<tool",
                "_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>", "北京", "</arg_value>\n<arg_key>days</arg_key>\n"
                        + "<arg_value>2</arg_value>\n<arg_key>zip</arg_key>\n<arg_value>0123</arg_value>\n</tool_call>"),
                template("glm-4.5.jinja"));
        server = TestServer.client(ai.autoglm.server.AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 64 * 1024, 8,
                Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("qwen3", qwen, 2048, 1, null, null),
                new ModelSpec("qwen3-tools", qwenTools, 2048, 1, null, null),
                new ModelSpec("glm45", glm, 2048, 1, null, null)))));
        openai = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (openai != null) openai.close();
        if (server != null) server.close();
    }

    static ObjectNode chat(String model, boolean stream, boolean withTools) {
        ObjectNode body = TestServer.JSON.createObjectNode();
        body.put("model", model).put("temperature", 0).put("max_tokens", 40).put("stream", stream);
        body.putArray("messages").addObject().put("role", "user").put("content", "Weather in 北京?");
        if (withTools) {
            ObjectNode fn = body.putArray("tools").addObject().put("type", "function").putObject("function");
            fn.put("name", "get_weather");
            ObjectNode props = fn.putObject("parameters").put("type", "object").putObject("properties");
            props.putObject("city").put("type", "string");
            props.putObject("days").put("type", "integer");
            props.putObject("zip").put("type", "string");
        }
        return body;
    }

    /** The whole answer; and the streamed one, whose deltas must add up to the same fields. */
    static JsonNode message(String model, boolean withTools) throws IOException {
        HttpResponse<String> r = server.post("/v1/chat/completions", chat(model, false, withTools));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode choice = TestServer.json(r).get("choices").get(0);
        ObjectNode message = (ObjectNode) choice.get("message");
        message.put("finish_reason", choice.get("finish_reason").asText());

        HttpResponse<String> s = server.post("/v1/chat/completions", chat(model, true, withTools));
        assertThat(s.statusCode()).as(s.body()).isEqualTo(200);
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        ArrayNode calls = TestServer.JSON.createArrayNode();
        String finish = null;
        for (String event : ChatApiTest.events(s.body())) {
            JsonNode c = TestServer.JSON.readTree(event).get("choices").get(0);
            JsonNode d = c.get("delta");
            if (d.has("reasoning_content")) reasoning.append(d.get("reasoning_content").asText());
            if (d.hasNonNull("content")) content.append(d.get("content").asText());
            if (d.has("tool_calls")) d.get("tool_calls").forEach(calls::add);
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
            assertThat(d.path("content").asText("")).doesNotContain("think>").doesNotContain("<tool_call>");
            assertThat(d.path("reasoning_content").asText("")).doesNotContain("think>");
        }
        assertThat(reasoning.toString()).as("streamed reasoning").isEqualTo(message.path("reasoning_content").asText(""));
        // streamed content before a call keeps the whitespace before the call's tag (it went out before the tag came)
        assertThat(calls.isEmpty() ? content.toString() : content.toString().strip()).as("streamed content")
                .isEqualTo(message.path("content").asText(""));
        assertThat(finish).isEqualTo(message.get("finish_reason").asText());
        assertThat(calls.size()).isEqualTo(message.path("tool_calls").size());
        for (int i = 0; i < calls.size(); i++) {
            JsonNode a = calls.get(i).get("function"), b = message.get("tool_calls").get(i).get("function");
            assertThat(a.get("name")).isEqualTo(b.get("name"));
            assertThat(TestServer.JSON.readTree(a.get("arguments").asText())).isEqualTo(TestServer.JSON.readTree(b.get("arguments").asText()));
        }
        return message;
    }

    @Test
    void qwen3ThinkBlockBecomesReasoningContent() throws IOException {
        JsonNode m = message("qwen3", false);
        assertThat(m.get("reasoning_content").asText()).isEqualTo(QWEN_REASONING);
        assertThat(m.get("content").asText()).isEqualTo("The answer is 42.");
        assertThat(m.get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void qwen3ReasoningThenHermesToolCall() throws IOException {
        JsonNode m = message("qwen3-tools", true);
        assertThat(m.get("reasoning_content").asText()).isEqualTo("I should call get_weather.");
        assertThat(m.get("content").isNull()).isTrue();
        assertThat(m.get("finish_reason").asText()).isEqualTo("tool_calls");
        assertThat(m.get("tool_calls").get(0).get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(TestServer.JSON.readTree(m.get("tool_calls").get(0).get("function").get("arguments").asText()))
                .isEqualTo(TestServer.JSON.readTree("{\"city\": \"Paris\"}"));
    }

    @Test
    void glm45ReasoningTextAndXmlToolCall() throws IOException {
        JsonNode m = message("glm45", true);
        assertThat(m.get("reasoning_content").asText()).isEqualTo("Need the weather.");
        assertThat(m.get("content").asText()).isEqualTo("Checking.");
        assertThat(m.get("finish_reason").asText()).isEqualTo("tool_calls");
        JsonNode fn = m.get("tool_calls").get(0).get("function");
        assertThat(fn.get("name").asText()).isEqualTo("get_weather");
        // days is an integer parameter (JSON-decoded); zip a string one (kept as written, leading zero included)
        assertThat(TestServer.JSON.readTree(fn.get("arguments").asText()))
                .isEqualTo(TestServer.JSON.readTree("{\"city\": \"北京\", \"days\": 2, \"zip\": \"0123\"}"));
        // without tools in the request the call stays text, after the reasoning
        JsonNode plain = message("glm45", false);
        assertThat(plain.get("reasoning_content").asText()).isEqualTo("Need the weather.");
        assertThat(plain.get("content").asText()).startsWith("Checking.\n<tool_call>get_weather\n<arg_key>city</arg_key>");
    }

    @Test
    void theOpenAiClientReadsReasoningContent() {
        ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("glm45")
                .addUserMessage("Weather in 北京?").temperature(0.0).maxCompletionTokens(40)
                .addTool(ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                        .name("get_weather").parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                                .build()).build()).build())).build());
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertThat(choice.message()._additionalProperties().get("reasoning_content")).isEqualTo(JsonValue.from("Need the weather."));
        assertThat(choice.message().content()).contains("Checking.");
        assertThat(choice.message().toolCalls().orElseThrow().getFirst().asFunction().function().name()).isEqualTo("get_weather");

        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("qwen3").addUserMessage("Why?").temperature(0.0).maxCompletionTokens(40).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                JsonValue r = ch.delta()._additionalProperties().get("reasoning_content");
                if (r != null) reasoning.append(r.asString().orElseThrow());
                ch.delta().content().ifPresent(content::append);
            }));
        }
        assertThat(reasoning.toString()).isEqualTo(QWEN_REASONING);
        assertThat(content.toString()).isEqualTo("The answer is 42.");
    }

    /** The prompt text a conversation renders to on the server (via /tokenize with pieces). */
    static String prompt(String model, JsonNode messages, Map<String, Object> kwargs) throws IOException {
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", model).put("with_pieces", true);
        body.set("messages", messages);
        if (kwargs != null) body.set("chat_template_kwargs", TestServer.JSON.valueToTree(kwargs));
        HttpResponse<String> r = server.post("/tokenize", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        TestServer.json(r).get("tokens").forEach(t -> text.append(t.get("piece").asText()));
        return text.toString();
    }

    @Test
    void reasoningSentBackIsKeptOnlyAsTheTemplatesKeepIt() throws IOException {
        ArrayNode history = TestServer.JSON.createArrayNode();
        history.addObject().put("role", "user").put("content", "Q1");
        history.addObject().put("role", "assistant").put("content", "A1").put("reasoning_content", "old thoughts");
        history.addObject().put("role", "user").put("content", "Q2");
        ObjectNode call = history.addObject().put("role", "assistant").put("content", "").put("reasoning_content", "fresh thoughts");
        call.putArray("tool_calls").addObject().put("id", "c1").put("type", "function").putObject("function")
                .put("name", "get_weather").put("arguments", "{\"city\": \"Oslo\"}");
        history.addObject().put("role", "tool").put("tool_call_id", "c1").put("content", "rain");
        String qwen = prompt("qwen3", history, null);
        assertThat(qwen).doesNotContain("old thoughts").contains("<|im_start|>assistant\nA1<|im_end|>")
                .contains("<|im_start|>assistant\n<think>\nfresh thoughts\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\"");
        String glm = prompt("glm45", history, null);
        assertThat(glm).doesNotContain("old thoughts").contains("<|assistant|>\n<think></think>\nA1")
                .contains("<|assistant|>\n<think>fresh thoughts</think>\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>");
        // chat_template_kwargs reach the template: enable_thinking false closes the think block in the prompt
        ArrayNode one = TestServer.JSON.createArrayNode();
        one.addObject().put("role", "user").put("content", "hi");
        assertThat(prompt("qwen3", one, Map.of("enable_thinking", false))).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n");
        assertThat(prompt("glm45", one, Map.of("enable_thinking", false))).endsWith("hi/nothink<|assistant|>\n<think></think>");
        ObjectNode bad = TestServer.JSON.createObjectNode().put("model", "qwen3");
        bad.set("messages", one);
        bad.putObject("chat_template_kwargs").put("messages", "x");
        assertThat(server.post("/v1/chat/completions", bad).statusCode()).isEqualTo(400);
    }
}
