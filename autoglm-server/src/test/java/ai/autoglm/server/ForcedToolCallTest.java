package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionTool;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static ai.autoglm.server.StructuredOutputTest.parse;
import static ai.autoglm.server.StructuredOutputTest.schemaErrors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code tool_choice: "required"} and a named function, through openai-java, on the random-weight fixture: left to
 * itself it never writes a tool call; forced, it writes one in the model's tool-call format (the same fixture
 * served as three aliases: qwen, llama3 and glm4 formats) that the server's parser turns into {@code tool_calls},
 * to an allowed tool, with arguments valid against that tool's parameters (networknt). The parameter schemas are
 * finite languages (enums, bounded strings), so every seed completes the call within max_tokens.
 */
class ForcedToolCallTest {
    @TempDir
    static Path dir;
    static AutoglmServer server;
    static OpenAIClient openai;

    static final Map<String, String> PARAMETERS = Map.of(
            "get_weather", """
                    {"type":"object","properties":{"city":{"enum":["Paris","Lima"]},"unit":{"enum":["celsius","fahrenheit"]}},
                     "required":["city","unit"],"additionalProperties":false}""",
            "get_time", """
                    {"type":"object","properties":{"zone":{"type":"string","maxLength":5}},"required":["zone"],"additionalProperties":false}""");

    @BeforeAll
    static void start() {
        Path llama = TestServer.llamaFile(dir);
        server = AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("qwen", llama, 1024, 2, null, "qwen"),
                new ModelSpec("llama3", llama, 1024, 1, null, "llama3"),
                new ModelSpec("glm4", llama, 1024, 1, null, "glm4"))));
        openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
    }

    static ChatCompletionTool tool(String name) {
        FunctionParameters.Builder p = FunctionParameters.builder();
        parse(PARAMETERS.get(name)).properties().forEach(e -> p.putAdditionalProperty(e.getKey(),
                JsonValue.from(TestServer.JSON.convertValue(e.getValue(), Object.class))));
        return ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder().name(name).parameters(p.build()).build()).build());
    }

    static ChatCompletionCreateParams.Builder ask(String model, long seed) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Weather in Paris, and the time?")
                .addTool(tool("get_weather")).addTool(tool("get_time")).temperature(1.0).seed(seed).maxCompletionTokens(600);
    }

    /** The single call of a completion, checked against the allowed tools and their schemas. */
    static ChatCompletionMessageFunctionToolCall.Function call(ChatCompletion c, Set<String> allowed) {
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertThat(choice.finishReason()).as(c.toString()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream()
                .map(tc -> tc.asFunction()).toList();
        assertThat(calls).hasSize(1);
        ChatCompletionMessageFunctionToolCall.Function f = calls.getFirst().function();
        assertThat(allowed).contains(f.name());
        assertThat(schemaErrors(parse(PARAMETERS.get(f.name())), parse(f.arguments()))).as(f.arguments()).isEmpty();
        return f;
    }

    @Test
    void leftToItselfTheModelWritesNoCall() {
        ChatCompletion c = openai.chat().completions().create(ask("qwen", 0).maxCompletionTokens(40).build());
        assertThat(c.choices().getFirst().message().toolCalls().orElse(List.of())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen", "llama3"})
    void requiredMakesACallToAnAllowedToolWithValidArguments(String model) {
        for (long seed = 0; seed < 6; seed++) {
            ChatCompletionCreateParams params = ask(model, seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
            ChatCompletionMessageFunctionToolCall.Function f = call(openai.chat().completions().create(params), PARAMETERS.keySet());
            if (seed < 2) {
                StringBuilder name = new StringBuilder(), arguments = new StringBuilder();
                String[] finish = {null};
                try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
                    stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                        ch.delta().toolCalls().ifPresent(calls -> calls.forEach(tc -> tc.function().ifPresent(fn -> {
                            fn.name().ifPresent(name::append);
                            fn.arguments().ifPresent(arguments::append);
                        })));
                        ch.finishReason().ifPresent(r -> finish[0] = r.asString());
                    }));
                }
                assertThat(name.toString()).isEqualTo(f.name());
                assertThat(parse(arguments.toString())).isEqualTo(parse(f.arguments()));
                assertThat(finish[0]).isEqualTo("tool_calls");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen", "llama3", "glm4"})
    void aNamedFunctionIsTheOneCalled(String model) {
        for (String name : PARAMETERS.keySet()) {
            for (long seed = 0; seed < 2; seed++) {
                ChatCompletion c = openai.chat().completions().create(ask(model, seed).toolChoice(ChatCompletionNamedToolChoice.builder()
                        .function(ChatCompletionNamedToolChoice.Function.builder().name(name).build()).build()).build());
                assertThat(call(c, Set.of(name)).name()).isEqualTo(name);
            }
        }
    }

    @Test
    void whatCannotBeForcedIsA400NamingToolChoice() {
        // glm4 writes the name as plain text first: a choice among several tools is not one fixed text
        assertThatThrownBy(() -> openai.chat().completions().create(ask("glm4", 0).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.param()).hasValue("tool_choice"));
        assertThatThrownBy(() -> openai.chat().completions().create(ask("qwen", 0).toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("get_stock").build()).build()).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.param()).hasValue("tool_choice");
                    assertThat(e.getMessage()).contains("get_stock");
                });
        JsonNode unsupported = parse("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"multipleOf\":2}}}");
        FunctionParameters.Builder p = FunctionParameters.builder();
        unsupported.properties().forEach(e -> p.putAdditionalProperty(e.getKey(), JsonValue.from(TestServer.JSON.convertValue(e.getValue(), Object.class))));
        ChatCompletionTool counter = ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder().name("count").parameters(p.build()).build()).build());
        assertThatThrownBy(() -> openai.chat().completions().create(ChatCompletionCreateParams.builder().model("qwen")
                .addUserMessage("count").addTool(counter).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.param()).hasValue("tool_choice");
                    assertThat(e.getMessage()).contains("multipleOf");
                });
    }

    @Test
    void langChain4jToolChoiceRequired() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .modelName("qwen").temperature(1.0).seed(3).maxTokens(600).maxRetries(0).build();
        ToolSpecification weather = ToolSpecification.builder().name("get_weather").parameters(JsonObjectSchema.builder()
                .addEnumProperty("city", List.of("Paris", "Lima")).addEnumProperty("unit", List.of("celsius", "fahrenheit"))
                .required("city", "unit").build()).build();
        ChatResponse r = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(UserMessage.from("Weather in Paris?")).toolSpecifications(weather)
                .parameters(ChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED).build()).build());
        List<ToolExecutionRequest> calls = r.aiMessage().toolExecutionRequests();
        assertThat(calls).hasSize(1);
        assertThat(calls.getFirst().name()).isEqualTo("get_weather");
        assertThat(schemaErrors(parse(PARAMETERS.get("get_weather")), parse(calls.getFirst().arguments()))).isEmpty();
    }
}
