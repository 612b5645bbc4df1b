package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thinking model (scripted Qwen3 with Qwen3's real template): the response's {@code reasoning()} holds the think
 * block and {@code content()} / the streamed pieces the answer only, in-process and through a real server alike.
 */
class ReasoningTest {

    @Test
    void reasoningIsKeptApartFromTheAnswerOnBothRoutes(@TempDir Path dir) {
        Path model = ScriptedModels.thinker(dir.resolve("thinker.gguf"));
        ChatRequest req = ChatRequest.builder().user("Weather in 北京?").options(GenerationOptions.greedy().withMaxTokens(32)).build();
        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("thinker", model, 2048, 1, null, null)));
             AutoGLMClient local = AutoGLMClient.inProcess().model(model).context(2048).build();
             AutoGLMClient remote = AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("thinker").build()) {
            for (AutoGLMClient c : List.of(local, remote)) {
                ChatResponse r = c.chat(req);
                assertThat(r.reasoning()).as("%s", r).isEqualTo(ScriptedModels.REASONING);
                assertThat(r.content()).isEqualTo(ScriptedModels.ANSWER);
                assertThat(r.finishReason()).isEqualTo("stop");
                try (ChatStream s = c.stream(req)) {
                    StringBuilder text = new StringBuilder();
                    for (String piece : s) text.append(piece);
                    assertThat(text.toString()).isEqualTo(ScriptedModels.ANSWER);
                    assertThat(s.response().reasoning()).isEqualTo(ScriptedModels.REASONING);
                    assertThat(s.response().content()).isEqualTo(ScriptedModels.ANSWER);
                }
            }
        }
    }
}
