package ai.autoglm.langchain4j;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.Embeddings;
import ai.autoglm.client.GenerationOptions;
import ai.autoglm.client.ScriptedModels;
import ai.autoglm.client.TestServers;
import ai.autoglm.core.model.encoder.EmbeddingJars;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The adapters driven through LangChain4j's own API: an {@code AiServices} interface with a {@code @Tool}, a record
 * return type (JSON schema answer) and a streamed {@code TokenStream}, in-process and against a real server. The
 * reference for each answer is the SDK called directly (itself checked against {@code autoglm serve}).
 */
class AiServicesTest {
    enum Unit { celsius, fahrenheit }

    interface Assistant {
        String chat(String message);
    }

    static final class WeatherTools {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Tool("The current weather in a city")
        String get_weather(@P("the city") String city, @P("the unit") Unit unit) {
            calls.add(city + "/" + unit);
            return "21 degrees " + unit;
        }
    }

    @Test
    void anAiServiceCallsAJavaToolAndAnswersWithItsResultInProcessAndRemote(@TempDir Path dir) {
        Path model = ScriptedModels.toolCaller(dir.resolve("tools.gguf"));
        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("tools", model, 2048, 1, null, null)));
             AutoGLMClient local = AutoGLMClient.inProcess().model(model).context(2048).build();
             AutoGLMClient remote = AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("tools").build()) {
            for (AutoGLMClient client : List.of(local, remote)) {
                WeatherTools tools = new WeatherTools();
                Assistant assistant = AiServices.builder(Assistant.class).chatModel(new AutoglmChatModel(client)).tools(tools).build();
                assertThat(assistant.chat("What is the weather in Paris?")).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL);
                assertThat(tools.calls).containsExactly("Paris/celsius");
            }
        }
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    @Test
    void aStreamingAiServiceRunsTheToolToo(@TempDir Path dir) throws Exception {
        Path model = ScriptedModels.toolCaller(dir.resolve("tools.gguf"));
        try (AutoGLMClient local = AutoGLMClient.inProcess().model(model).context(2048).build()) {
            WeatherTools tools = new WeatherTools();
            StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class)
                    .streamingChatModel(new AutoglmStreamingChatModel(local)).tools(tools).build();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            StringBuilder text = new StringBuilder();
            assistant.chat("What is the weather in Paris?").onPartialResponse(text::append)
                    .onCompleteResponse(done::complete).onError(done::completeExceptionally).start();
            ChatResponse r = done.get(2, TimeUnit.MINUTES);
            assertThat(r.aiMessage().text()).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL);
            assertThat(text.toString()).isEqualTo(ScriptedModels.ANSWER_AFTER_TOOL);
            assertThat(tools.calls).containsExactly("Paris/celsius");
        }
    }

    enum Tone { calm, sad, happy }

    record Mood(Tone tone, boolean rhymes) {
    }

    interface MoodReader {
        Mood read(String text);
    }

    @Test
    void aRecordReturnTypeIsAnsweredThroughTheJsonSchemaTheSameAsTheSdkGives() {
        try (AutoGLMClient local = AutoGLMClient.inProcess().bundledModel().build()) {
            AutoglmChatModel chatModel = new AutoglmChatModel(local);
            MoodReader reader = AiServices.builder(MoodReader.class).chatModel(chatModel).build();
            // greedy, and no length limit: the grammar bounds the answer (see the SDK's structured-output test)
            Mood viaLc4j = AiServices.builder(MoodReader.class).chatModel(new dev.langchain4j.model.chat.ChatModel() {
                @Override
                public ChatResponse doChat(dev.langchain4j.model.chat.request.ChatRequest request) {
                    return chatModel.chat(request.toBuilder().parameters(ChatRequestParameters.builder()
                            .overrideWith(request.parameters()).temperature(0.0).build()).build());
                }

                @Override
                public java.util.Set<dev.langchain4j.model.chat.Capability> supportedCapabilities() {
                    return chatModel.supportedCapabilities();
                }
            }).build().read("How do you feel?");
            Mood direct = local.chat(ChatRequest.builder().user("How do you feel?").options(GenerationOptions.greedy()).build(), Mood.class).value();
            assertThat(viaLc4j).isEqualTo(direct);
            assertThat(reader).isNotNull();
        }
    }

    @Test
    void streamingChatModelGivesTheSameTextAsTheBlockingOne() throws Exception {
        try (AutoGLMClient local = AutoGLMClient.inProcess().bundledModel().build()) {
            var request = dev.langchain4j.model.chat.request.ChatRequest.builder()
                    .messages(dev.langchain4j.data.message.SystemMessage.from("你是诗人。"), dev.langchain4j.data.message.UserMessage.from("床前明月光"))
                    .parameters(ChatRequestParameters.builder().temperature(0.0).maxOutputTokens(30).build()).build();
            ChatResponse whole = new AutoglmChatModel(local).chat(request);
            List<String> pieces = new ArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            new AutoglmStreamingChatModel(local).chat(request, new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String piece) {
                    pieces.add(piece);
                }

                @Override
                public void onCompleteResponse(ChatResponse r) {
                    done.complete(r);
                }

                @Override
                public void onError(Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            ChatResponse streamed = done.get(2, TimeUnit.MINUTES);
            assertThat(pieces.size()).isGreaterThan(1);
            assertThat(String.join("", pieces)).isEqualTo(whole.aiMessage().text()).isEqualTo(streamed.aiMessage().text());
            assertThat(streamed.tokenUsage().outputTokenCount()).isEqualTo(whole.tokenUsage().outputTokenCount()).isEqualTo(30);
            assertThat(streamed.finishReason()).isEqualTo(dev.langchain4j.model.output.FinishReason.LENGTH);
        }
    }

    @Test
    void embeddingModelGivesTheSdksVectorsInProcessAndRemote() {
        Path minilm = EmbeddingJars.jar(EmbeddingJars.MINILM);
        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("minilm", minilm, null, 1, null, null)));
             AutoGLMClient local = AutoGLMClient.inProcess().bundledModel().embeddingModel(minilm).build();
             AutoGLMClient remote = AutoGLMClient.remote().baseUrl(TestServers.url(server)).embeddingModel("minilm").build()) {
            List<String> texts = List.of("The cat sits on the mat.", "A feline rests on a rug.", "Stock prices fell sharply.");
            Embeddings direct = local.embed(texts);
            for (AutoGLMClient c : List.of(local, remote)) {
                var lc = new AutoglmEmbeddingModel(c).embedAll(texts.stream().map(TextSegment::from).toList());
                assertThat(lc.content()).hasSize(3);
                for (int i = 0; i < 3; i++) {
                    float[] v = lc.content().get(i).vector();
                    float[] d = direct.vectors().get(i);
                    assertThat(v).hasSize(384);
                    for (int k = 0; k < v.length; k++) assertThat(v[k]).isCloseTo(d[k], org.assertj.core.data.Offset.offset(1e-5f));
                }
                assertThat(lc.tokenUsage().inputTokenCount()).isEqualTo(direct.promptTokens());
            }
            // the model means something: the paraphrase is nearer than the unrelated sentence
            Embedding cat = Embedding.from(direct.vectors().get(0));
            assertThat(cos(cat.vector(), direct.vectors().get(1))).isGreaterThan(cos(cat.vector(), direct.vectors().get(2)));
        }
    }

    static double cos(float[] a, float[] b) {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return d / Math.sqrt(na * nb);
    }
}
