package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionTool;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15 item 19: a tool round trip through the real server with the bundled model (models/default/model.gguf, its
 * own chat template), driven by openai-java. Round one forces the call (the glm4 tool-call format, found from the
 * template's {@code <|observation|>}); round two sends the call and its result back. The prompt the server built for
 * round two must be, token for token, CPython jinja2's rendering of the model's template for that conversation
 * (the core module's reference renderer, transformers' settings), which holds the tools block, the call as
 * {@code <|assistant|>get_weather} and the result as an {@code <|observation|>} turn. With the template first
 * bundled, round two rendered as {@code <|assistant|>\n<|assistant|>\n}: far fewer tokens.
 */
class BundledModelToolRoundTripTest {
    static final Path MODEL = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf");
    static final Path RENDERER = Path.of("").toAbsolutePath().getParent().resolve("autoglm-core/src/test/python/render_chat_template.py");
    static final String PARAMETERS = """
            {"type":"object","properties":{"city":{"enum":["Paris","Lima"]}},"required":["city"]}""";
    static AutoglmServer server;
    static OpenAIClient openai;

    @BeforeAll
    static void start() {
        server = AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("default", MODEL, null, 1, null, null))));
        openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (openai != null) openai.close();
        if (server != null) server.close();
    }

    @Test
    void toolRoundTripRendersToolsCallsAndResultsAsGlm4Does() throws Exception {
        JsonNode parameters = TestServer.JSON.readTree(PARAMETERS);
        FunctionParameters.Builder p = FunctionParameters.builder();
        parameters.properties().forEach(e -> p.putAdditionalProperty(e.getKey(), JsonValue.from(TestServer.JSON.convertValue(e.getValue(), Object.class))));
        ChatCompletionTool weather = ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder().name("get_weather").parameters(p.build()).build()).build());

        // Round one: the call, forced, greedy.
        ChatCompletion first = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("default")
                .addUserMessage("Weather in Paris?").addTool(weather).temperature(0.0).maxCompletionTokens(33)
                .toolChoice(ChatCompletionToolChoiceOption.ofNamedToolChoice(ChatCompletionNamedToolChoice.builder()
                        .function(ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build()).build())).build());
        ChatCompletion.Choice choice = first.choices().getFirst();
        // greedy and forced: the call and nothing else (whitespace bounded: the model used to pad it with spaces to the end)
        assertThat(first.usage().orElseThrow().completionTokens()).isLessThan(33);
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("get_weather");
        String arguments = call.function().arguments();
        JsonNode args = TestServer.JSON.readTree(arguments);
        assertThat(args.get("city").asText()).isIn("Paris", "Lima");

        // Round two: the call and its result go back.
        ChatCompletion second = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("default")
                .addUserMessage("Weather in Paris?")
                .addMessage(ChatCompletionAssistantMessageParam.builder().toolCalls(List.of(ChatCompletionMessageToolCall.ofFunction(call))).build())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"temperature\": 21}").build())
                .addTool(weather).temperature(0.0).maxCompletionTokens(1).build()); // the prompt fills 254 of the 256 tokens
        long promptTokens = second.usage().orElseThrow().promptTokens();

        // The reference: jinja2 renders the model's own template (read from the GGUF by the server, given here as
        // the server's /v1/models does not expose it) for the conversation as the server passes it to templates
        // (arguments parsed into an object, as transformers' chat templates expect them).
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("arguments", TestServer.JSON.convertValue(args, Map.class));
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "user", "content", "Weather in Paris?"),
                new LinkedHashMap<>(Map.of("role", "assistant", "tool_calls", List.of(Map.of("id", call.id(), "type", "function", "function", fn)))),
                Map.of("role", "tool", "tool_call_id", call.id(), "content", "{\"temperature\": 21}"));
        Map<String, Object> function = new LinkedHashMap<>(); // key order as openai-java sends them: tojson keeps it
        function.put("name", "get_weather");
        function.put("parameters", TestServer.JSON.convertValue(parameters, Map.class));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        String reference = jinja2(templateOfTheBundledModel(), messages, List.of(tool));
        assertThat(reference).contains("## get_weather").contains("<|assistant|>get_weather\n{\"city\": ")
                .endsWith("<|observation|>\n{\"temperature\": 21}<|assistant|>");
        assertThat(promptTokens).as(reference).isEqualTo(tokenCount(reference));
    }

    private static String templateOfTheBundledModel() {
        try (var f = ai.autoglm.core.format.gguf.GgufFile.open(MODEL)) {
            return f.getString("tokenizer.chat_template", null);
        }
    }

    /** The number of tokens the bundled model's tokenizer makes of {@code text} (special tokens recognised, no BOS added). */
    private static long tokenCount(String text) throws Exception {
        String body = TestServer.JSON.writeValueAsString(Map.of("model", "default", "content", text, "add_special", false));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/tokenize"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return TestServer.JSON.readTree(r.body()).get("count").asLong();
    }

    /** CPython jinja2 as transformers configures it (the core module's reference renderer). */
    private static String jinja2(String template, List<Map<String, Object>> messages, List<Map<String, Object>> tools) throws Exception {
        assertThat(Files.isRegularFile(RENDERER)).as("reference renderer %s", RENDERER).isTrue();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("template", template);
        c.put("messages", messages);
        c.put("tools", tools);
        c.put("add_generation_prompt", true);
        c.put("bos_token", null);
        c.put("eos_token", "<|endoftext|>");
        c.put("extra", null);
        c.put("now", null);
        Process proc = new ProcessBuilder("python3", RENDERER.toString()).start();
        try (OutputStream in = proc.getOutputStream()) {
            in.write(TestServer.JSON.writeValueAsBytes(Map.of("cases", List.of(c))));
        }
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(proc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(proc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(proc.exitValue()).as("python3 with jinja2 is needed: %s", err).isZero();
        JsonNode result = TestServer.JSON.readTree(out).get("results").get(0);
        assertThat(result.has("error")).as(result.toString()).isFalse();
        return result.get("text").asText();
    }
}
