package ai.autoglm.spring;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.BundledModel;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.GenerationOptions;
import ai.autoglm.client.TestServers;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.client.ScriptedModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Spring AI adapter through a Spring Boot application context built from the auto-configuration and
 * {@code autoglm.*} properties; the reference for each answer is the SDK called directly on the same model.
 */
class AutoglmAutoConfigurationTest {
    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(AutoglmAutoConfiguration.class));

    static Prompt prompt() {
        return new Prompt(List.of(new SystemMessage("你是诗人。"), new UserMessage("月")),
                ChatOptions.builder().temperature(0.0).maxTokens(24).build());
    }

    static String direct() {
        try (AutoGLMClient c = AutoGLMClient.inProcess().bundledModel().build()) {
            return c.chat(ChatRequest.builder().system("你是诗人。").user("月").options(GenerationOptions.greedy().withMaxTokens(24)).build()).content();
        }
    }

    @Test
    void theAutoConfigurationIsRegisteredForSpringBoot() {
        List<String> candidates = ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).getCandidates();
        assertThat(candidates).contains(AutoglmAutoConfiguration.class.getName());
    }

    @Test
    void inProcessChatModelFromPropertiesAnswersAsTheSdkDoes() {
        String expected = direct();
        runner.withPropertyValues("autoglm.model-path=" + BundledModel.path()).run(ctx -> {
            ChatModel model = ctx.getBean(ChatModel.class);
            ChatResponse r = model.call(prompt());
            assertThat(r.getResult().getOutput().getText()).isEqualTo(expected);
            assertThat(r.getMetadata().getUsage().getCompletionTokens()).isEqualTo(24);
            assertThat((String) r.getMetadata().get("route")).isEqualTo("LOCAL");

            String streamed = Objects.requireNonNull(model.stream(prompt()).map(c -> c.getResult().getOutput().getText())
                    .collect(Collectors.joining()).block());
            assertThat(streamed).isEqualTo(expected);
        });
    }

    @Test
    void withABaseUrlItAsksTheServerAndFallsBackWhenItIsGone() {
        String expected = direct();
        AutoglmServer server = TestServers.start(0);
        try {
            runner.withPropertyValues("autoglm.base-url=" + TestServers.url(server), "autoglm.model=" + TestServers.ALIAS,
                    "autoglm.probe-interval=1h").run(ctx -> {
                ChatModel model = ctx.getBean(ChatModel.class);
                ChatResponse online = model.call(prompt());
                assertThat((String) online.getMetadata().get("route")).isEqualTo("REMOTE");
                assertThat(online.getResult().getOutput().getText()).isEqualTo(expected);
                server.close();
                ChatResponse offline = model.call(prompt());
                assertThat((String) offline.getMetadata().get("route")).isEqualTo("LOCAL");
                assertThat((String) offline.getMetadata().get("route-reason")).contains("server unavailable");
                assertThat(offline.getResult().getOutput().getText()).isEqualTo(expected);
            });
        } finally {
            server.close();
        }
    }

    /** The application's tools, as Spring AI's docs declare them; each call is recorded. */
    static final class WeatherTools {
        final List<String> calls = new ArrayList<>();

        @Tool(name = "get_weather", description = "The weather in a city")
        String getWeather(@ToolParam(description = "the city") String city, @ToolParam(description = "celsius or fahrenheit") String unit) {
            calls.add(city + "/" + unit);
            return "21 " + unit + " in " + city;
        }
    }

    /**
     * Spring AI's tool loop through a ChatClient: the scripted tool-calling model (the client tests' ToolsTest: it calls
     * get_weather, then answers ScriptedModels.ANSWER_AFTER_TOOL once the result is in the conversation) asks for the
     * tool, Spring AI's ToolCallingManager runs the application's @Tool method with the model's arguments, and the
     * final answer is the model's reply after the tool result. With internal execution off the call comes back instead.
     */
    @Test
    void aChatClientWithToolsRunsTheToolAndReturnsTheFinalAnswer(@TempDir Path dir) {
        Path model = ScriptedModels.toolCaller(dir.resolve("tools.gguf"));
        runner.withPropertyValues("autoglm.model-path=" + model).run(ctx -> {
            ChatClient chat = ChatClient.create(ctx.getBean(ChatModel.class));
            WeatherTools tools = new WeatherTools();
            ChatResponse r = chat.prompt().user("Weather in Paris?").tools(tools)
                    .options(ToolCallingChatOptions.builder().temperature(0.0).maxTokens(16).build())
                    .call().chatResponse();
            assertThat(tools.calls).containsExactly("Paris/celsius");
            assertThat(r.getResult().getOutput().getText()).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL);
            assertThat(r.getResult().getOutput().getToolCalls()).isEmpty();

            WeatherTools notRun = new WeatherTools();
            ChatResponse returned = chat.prompt().user("Weather in Paris?").tools(notRun)
                    .options(ToolCallingChatOptions.builder().temperature(0.0).maxTokens(16).internalToolExecutionEnabled(false).build())
                    .call().chatResponse();
            assertThat(notRun.calls).isEmpty();
            assertThat(returned.getResult().getOutput().getToolCalls()).singleElement().satisfies(c -> {
                assertThat(c.name()).isEqualTo("get_weather");
                assertThat(c.arguments()).contains("\"city\"").contains("Paris");
            });
        });
    }

    /** A tool whose result Spring AI returns to the caller as the answer ({@code returnDirect}), without asking the model again. */
    static final class DirectWeatherTools {
        final List<String> calls = new ArrayList<>();

        @Tool(name = "get_weather", description = "The weather in a city", returnDirect = true)
        String getWeather(@ToolParam(description = "the city") String city, @ToolParam(description = "celsius or fahrenheit") String unit) {
            calls.add(city + "/" + unit);
            return "21 " + unit + " in " + city;
        }
    }

    /**
     * The same tool loop on {@code stream} (ChatClient's {@code .stream()}, run as OpenAiChatModel.internalStream runs
     * it): the scripted model streams its tool call, Spring AI's ToolCallingManager runs the application's @Tool method,
     * and the answer after the tool result streams on in the same Flux. The reference is the {@code call} path on the
     * same model: the same final text and the same usage summed over both model calls. With internal execution off
     * the stream ends with the call, not run; with a returnDirect tool it ends with the tool's result.
     */
    @Test
    void aStreamingChatClientWithToolsRunsTheToolAndStreamsTheFinalAnswer(@TempDir Path dir) {
        Path model = ScriptedModels.toolCaller(dir.resolve("tools.gguf"));
        runner.withPropertyValues("autoglm.model-path=" + model).run(ctx -> {
            ChatClient chat = ChatClient.create(ctx.getBean(ChatModel.class));
            ToolCallingChatOptions options = ToolCallingChatOptions.builder().temperature(0.0).maxTokens(16).build();

            WeatherTools called = new WeatherTools();
            ChatResponse reference = chat.prompt().user("Weather in Paris?").tools(called).options(options).call().chatResponse();

            WeatherTools tools = new WeatherTools();
            List<ChatResponse> streamed = chat.prompt().user("Weather in Paris?").tools(tools).options(options)
                    .stream().chatResponse().collectList().block();
            assertThat(tools.calls).containsExactly("Paris/celsius");
            assertThat(streamed).isNotEmpty();
            String text = streamed.stream().map(r -> r.getResult().getOutput().getText()).collect(Collectors.joining());
            assertThat(text).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL).isEqualTo(reference.getResult().getOutput().getText());
            assertThat(streamed).allSatisfy(r -> assertThat(r.getResult().getOutput().getToolCalls()).isEmpty());
            ChatResponse last = streamed.getLast();
            assertThat(last.getResult().getMetadata().getFinishReason()).isEqualTo("stop");
            assertThat(last.getMetadata().getUsage().getPromptTokens()).isEqualTo(reference.getMetadata().getUsage().getPromptTokens());
            assertThat(last.getMetadata().getUsage().getCompletionTokens())
                    .isEqualTo(reference.getMetadata().getUsage().getCompletionTokens()).isGreaterThan(0);

            WeatherTools notRun = new WeatherTools();
            List<ChatResponse> returned = chat.prompt().user("Weather in Paris?").tools(notRun)
                    .options(ToolCallingChatOptions.builder().temperature(0.0).maxTokens(16).internalToolExecutionEnabled(false).build())
                    .stream().chatResponse().collectList().block();
            assertThat(notRun.calls).isEmpty();
            assertThat(returned.getLast().getResult().getMetadata().getFinishReason()).isEqualTo("tool_calls");
            assertThat(returned.getLast().getResult().getOutput().getToolCalls()).singleElement().satisfies(c -> {
                assertThat(c.name()).isEqualTo("get_weather");
                assertThat(c.arguments()).contains("\"city\"").contains("Paris");
            });

            DirectWeatherTools direct = new DirectWeatherTools();
            List<ChatResponse> directly = chat.prompt().user("Weather in Paris?").tools(direct).options(options)
                    .stream().chatResponse().collectList().block();
            assertThat(direct.calls).containsExactly("Paris/celsius");
            assertThat(directly.getLast().getResult().getOutput().getText()).contains("21 celsius in Paris");
        });
    }

    @Test
    void anApplicationsOwnClientWins() {
        try (AutoGLMClient mine = AutoGLMClient.inProcess().bundledModel().slots(1).build()) {
            runner.withBean(AutoGLMClient.class, () -> mine).run(ctx -> assertThat(ctx.getBean(AutoGLMClient.class)).isSameAs(mine));
        }
    }
}
