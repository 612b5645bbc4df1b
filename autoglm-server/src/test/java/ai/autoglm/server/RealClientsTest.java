package ai.autoglm.server;

import com.fasterxml.jackson.databind.JsonNode;
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
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official OpenAI Java SDK and LangChain4j's OpenAI models against the real server: plain and streamed chat
 * (text equal to the single-sequence Generator, or to the scripted model's known output), and tool calls parsed
 * into the SDKs' own tool-call objects.
 */
class RealClientsTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static GreedyReference reference;
    static OpenAIClient openai;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 2, 8);
        reference = new GreedyReference(server.llama);
        openai = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        reference.close();
        server.close();
    }

    static ChatCompletionTool weatherTool() {
        return ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                .name("get_weather").description("Current weather in a city")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .build())
                .build()).build());
    }

    @Test
    void openAiSdkChatAndStreamEqualTheGenerator() {
        String expected = reference.chat("hello world", 20, 256);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("llama").addUserMessage("hello world")
                .temperature(0.0).maxCompletionTokens(20).build();
        ChatCompletion completion = openai.chat().completions().create(params);
        assertThat(completion.choices().getFirst().message().content()).hasValue(expected);
        assertThat(completion.usage().orElseThrow().completionTokens()).isBetween(1L, 20L);

        StringBuilder streamed = new StringBuilder();
        long[] usage = {-1};
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append));
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
            });
        }
        assertThat(streamed.toString()).isEqualTo(expected);
        assertThat(usage[0]).isEqualTo(completion.usage().orElseThrow().completionTokens());
    }

    @Test
    void openAiSdkToolCallsAreParsedAsData() throws Exception {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tools")
                .addUserMessage("What is the weather in Paris?").addTool(weatherTool()).build();
        ChatCompletion completion = openai.chat().completions().create(params);
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("get_weather");
        JsonNode args = TestServer.JSON.readTree(call.function().arguments());
        assertThat(args).isEqualTo(TestServer.JSON.readTree("{\"city\": \"Paris\", \"unit\": \"celsius\"}"));
        assertThat(call.id()).isNotBlank();

        StringBuilder name = new StringBuilder(), arguments = new StringBuilder(), content = new StringBuilder();
        String[] finish = {null};
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                c.delta().content().ifPresent(content::append);
                c.delta().toolCalls().ifPresent(calls -> calls.forEach(tc -> tc.function().ifPresent(f -> {
                    f.name().ifPresent(name::append);
                    f.arguments().ifPresent(arguments::append);
                })));
                c.finishReason().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        assertThat(content.toString()).isEmpty();
        assertThat(name.toString()).isEqualTo("get_weather");
        assertThat(TestServer.JSON.readTree(arguments.toString())).isEqualTo(args);
        assertThat(finish[0]).isEqualTo("tool_calls");
    }

    @Test
    void langChain4jChatModelAndStreamingModel() throws Exception {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused").modelName("zh")
                .maxTokens(6).maxRetries(0).build();
        assertThat(chat.chat("你好")).isEqualTo("中文");

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused")
                .modelName("llama").temperature(0.0).maxTokens(20).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat("hello world", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        String expected = reference.chat("hello world", 20, 256);
        assertThat(partial.toString()).isEqualTo(expected);
        assertThat(response.aiMessage().text()).isEqualTo(expected);
    }

    @Test
    void langChain4jToolRoundTrip() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused").modelName("tools")
                .maxRetries(0).build();
        ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("Current weather in a city")
                .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
        UserMessage question = UserMessage.from("What is the weather in Paris?");
        ChatResponse first = model.chat(ChatRequest.builder().messages(question).toolSpecifications(weather).build());
        List<ToolExecutionRequest> calls = first.aiMessage().toolExecutionRequests();
        assertThat(calls).hasSize(1);
        assertThat(calls.getFirst().name()).isEqualTo("get_weather");
        assertThat(calls.getFirst().arguments()).contains("\"city\"").contains("Paris");

        // The tool result goes back as a tool message; the assistant's call is rendered by the template from data.
        ChatResponse second = model.chat(ChatRequest.builder().messages(question, AiMessage.from(calls),
                ToolExecutionResultMessage.from(calls.getFirst(), "{\"temperature\": 21}")).toolSpecifications(weather).build());
        assertThat(second.aiMessage().toolExecutionRequests()).hasSize(1); // the scripted model always calls again
    }
}
