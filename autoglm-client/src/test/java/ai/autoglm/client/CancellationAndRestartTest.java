package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On a model whose answer never ends by itself (16000 tokens of "abc"), closing a stream after its first piece
 * ends the generation in the scheduler (local: the scheduler reports the job cancelled after a handful of tokens;
 * remote: the server's own metrics count it cancelled); and a hybrid client asked to restart broken streams lets the
 * local model continue the answer where the stopped server left it.
 */
class CancellationAndRestartTest {
    static final int CONTEXT = 16384;

    static ChatRequest endless() {
        return ChatRequest.builder().user("go").options(GenerationOptions.greedy()).build();
    }

    @Test
    void closingALocalStreamCancelsTheJob(@TempDir Path dir) throws Exception {
        Path loop = ScriptedModels.looping(dir.resolve("loop.gguf"), CONTEXT);
        try (InProcessClient c = AutoGLMClient.inProcess().model(loop).context(CONTEXT).slots(1).open()) {
            try (ChatStream s = c.stream(endless())) {
                assertThat(s.iterator().next()).isEqualTo("a");
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (c.cancelled.get() == 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(c.cancelled.get()).isEqualTo(1);
            assertThat(c.lastCancelledTokens.get()).isBetween(1, CONTEXT / 2);
            // the one slot is free again
            assertThat(c.chat(endless().withOptions(GenerationOptions.greedy().withMaxTokens(4))).content()).isEqualTo("abca");
        }
    }

    static double metric(AutoglmServer server, String sample) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String body = http.send(HttpRequest.newBuilder(URI.create(TestServers.url(server) + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) if (line.startsWith(sample + " ")) return Double.parseDouble(line.substring(sample.length() + 1).trim());
            return 0;
        }
    }

    @Test
    void closingARemoteStreamCancelsTheJobOnTheServer(@TempDir Path dir) throws Exception {
        Path loop = ScriptedModels.looping(dir.resolve("loop.gguf"), CONTEXT);
        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("loop", loop, CONTEXT, 1, null, null)));
             AutoGLMClient c = AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("loop").build()) {
            try (ChatStream s = c.stream(endless())) {
                assertThat(s.iterator().next()).isEqualTo("a");
            }
            String cancelled = "autoglm_requests_finished_total{model=\"loop\",outcome=\"cancelled\"}";
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (metric(server, cancelled) == 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(metric(server, cancelled)).isEqualTo(1);
            assertThat(metric(server, "autoglm_generated_tokens_total{model=\"loop\"}")).isLessThan(CONTEXT / 2.0);
            assertThat(c.chat(endless().withOptions(GenerationOptions.greedy().withMaxTokens(4))).content()).isEqualTo("abca");
        }
    }

    @Test
    void aHybridClientAskedToRestartLetsTheLocalModelContinueABrokenStream(@TempDir Path dir) {
        Path loop = ScriptedModels.looping(dir.resolve("loop.gguf"), CONTEXT);
        AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("loop", loop, CONTEXT, 1, null, null)));
        try (AutoGLMClient c = AutoGLMClient.hybrid().remote(AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("loop"))
                .local(AutoGLMClient.inProcess().model(loop).context(CONTEXT)).probeInterval(Duration.ofHours(1))
                .restartBrokenStreamsLocally(true).build()) {
            ChatRequest req = endless().withOptions(GenerationOptions.greedy().withMaxTokens(3000));
            StringBuilder text = new StringBuilder();
            ChatResponse end;
            try (ChatStream s = c.stream(req)) {
                Iterator<String> it = s.iterator();
                text.append(it.next());
                server.close();
                while (it.hasNext()) text.append(it.next());
                end = s.response();
            }
            assertThat(end.route().kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(end.route().reason()).contains("local model continued");
            assertThat(end.content()).isEqualTo(text.toString());
            // one unbroken "abcabc...": the local model went on from the server's last letter
            assertThat("abc".repeat(1000)).startsWith(text.toString());
            assertThat(text.length()).isGreaterThan(100);
            assertThat(end.finishReason()).isEqualTo("length");
        } finally {
            server.close();
        }
    }
}
