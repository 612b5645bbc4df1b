package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Tools declared from a Java record and a method; the model's call comes back as typed data on both routes. */
class ToolsTest {
    enum Unit { celsius, fahrenheit }

    /** The tool's parameters. */
    record Weather(String city, Unit unit) {
    }

    /** What the tool does when the application runs it. */
    static String get_weather(String city, Unit unit) {
        return "21 " + unit + " in " + city;
    }

    @Test
    void aRecordToolIsCalledWithTypedArgumentsInProcessAndRemote(@TempDir Path dir) {
        Path model = ScriptedModels.toolCaller(dir.resolve("tools.gguf"));
        ToolSpec tool = ToolSpec.fromRecord("get_weather", "The weather in a city", Weather.class);
        assertThat(tool.parameters().toString()).isEqualTo("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                + "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\",\"unit\"],\"additionalProperties\":false}");
        ChatRequest req = ChatRequest.builder().user("Weather in Paris?").tool(tool).options(GenerationOptions.greedy().withMaxTokens(16)).build();

        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("tools", model, 2048, 1, null, null)));
             AutoGLMClient local = AutoGLMClient.inProcess().model(model).context(2048).build();
             AutoGLMClient remote = AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("tools").build()) {
            for (AutoGLMClient c : List.of(local, remote)) {
                ChatResponse r = c.chat(req);
                assertThat(r.finishReason()).as("answer %s", r.content()).isEqualTo("tool_calls");
                assertThat(r.toolCalls()).hasSize(1);
                ToolCall call = r.toolCalls().getFirst();
                assertThat(call.name()).isEqualTo("get_weather");
                assertThat(call.arguments(Weather.class)).isEqualTo(new Weather("Paris", Unit.celsius));
                assertThat(call.id()).isNotBlank();

                try (ChatStream s = c.stream(req)) {
                    StringBuilder text = new StringBuilder();
                    for (String piece : s) text.append(piece);
                    ChatResponse streamed = s.response();
                    assertThat(text.toString()).isEmpty(); // the call is not streamed as text
                    assertThat(streamed.finishReason()).isEqualTo("tool_calls");
                    assertThat(streamed.toolCalls()).hasSize(1);
                    assertThat(streamed.toolCalls().getFirst().arguments(Weather.class)).isEqualTo(new Weather("Paris", Unit.celsius));
                }

                // the conversation goes on with the tool's result (rendered by the template on both routes)
                ChatRequest next = ChatRequest.builder().user("Weather in Paris?").tool(tool)
                        .message(ChatMessage.assistant(null, List.of(call)))
                        .message(ChatMessage.toolResult(call.id(), get_weather("Paris", Unit.celsius)))
                        .options(GenerationOptions.greedy().withMaxTokens(16)).build();
                ChatResponse answer = c.chat(next);
                assertThat(answer.content()).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL);
                assertThat(answer.finishReason()).isEqualTo("stop");
                assertThat(answer.toolCalls()).isEmpty();
            }
        }
    }
}
