package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hybrid client against a real server that is stopped and started again, and against a socket that only
 * counts connections (for forced offline mode).
 */
class HybridFallbackTest {
    static final Duration PROBE = Duration.ofMillis(200);

    static ChatRequest ask(List<ChatMessage> history) {
        return ChatRequest.builder().system("你是诗人。").messages(history).options(GenerationOptions.greedy().withMaxTokens(24)).build();
    }

    @Test
    void serverStoppedBetweenTwoCallsIsAnsweredLocallyThenTheClientReturnsToTheRestartedServer() throws Exception {
        AutoglmServer server = TestServers.start(0);
        int port = server.port();
        try (HybridClient c = (HybridClient) AutoGLMClient.hybrid().remote(TestServers.remote(server))
                .local(AutoGLMClient.inProcess().bundledModel()).probeInterval(PROBE).build();
             AutoGLMClient reference = AutoGLMClient.inProcess().bundledModel().build()) {
            List<ChatMessage> history = new ArrayList<>(List.of(ChatMessage.user("床前明月光")));
            ChatResponse first = c.chat(ask(history));
            assertThat(first.route().kind()).isEqualTo(Route.Kind.REMOTE);
            history.add(ChatMessage.assistant(first.content()));
            history.add(ChatMessage.user("月"));

            server.close();
            ChatResponse second = c.chat(ask(history));
            assertThat(second.route().kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(second.route().reason()).contains("server unavailable").contains("local model");
            assertThat(second.content()).isEqualTo(reference.chat(ask(history)).content());
            assertThat(c.state()).isEqualTo(CircuitBreaker.State.OPEN);

            // while it is down the server is not tried (the breaker is open): answered locally, saying why
            ChatResponse third = c.chat(ask(history));
            assertThat(third.route().kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(third.route().reason()).contains("marked down");
            try (ChatStream s = c.stream(ask(history))) {
                s.forEach(piece -> { });
                assertThat(s.response().route().kind()).isEqualTo(Route.Kind.LOCAL);
            }

            server = TestServers.start(port);
            // the probe sees it within an interval or two; allow for a loaded machine
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (c.state() == CircuitBreaker.State.OPEN && System.nanoTime() < deadline) Thread.sleep(PROBE.toMillis() / 4);
            assertThat(c.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
            ChatResponse back = c.chat(ask(history));
            assertThat(back.route().kind()).isEqualTo(Route.Kind.REMOTE);
            assertThat(back.content()).isEqualTo(second.content()); // same greedy answer on both routes
            assertThat(c.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        } finally {
            server.close();
        }
    }

    @Test
    void serverStoppedDuringAStreamEndsItWithStreamInterruptedException(@TempDir Path dir) {
        Path loop = ScriptedModels.looping(dir.resolve("loop.gguf"), 16384);
        AutoglmServer server = TestServers.start(0, List.of(new ModelSpec("loop", loop, 16384, 1, null, null)));
        try (HybridClient c = (HybridClient) AutoGLMClient.hybrid().remote(AutoGLMClient.remote().baseUrl(TestServers.url(server)).model("loop"))
                .local(AutoGLMClient.inProcess().model(loop).context(16384)).probeInterval(Duration.ofHours(1)).build()) {
            ChatRequest req = ChatRequest.builder().user("go").options(GenerationOptions.greedy()).build();
            try (ChatStream s = c.stream(req)) {
                Iterator<String> it = s.iterator();
                assertThat(it.next()).isEqualTo("a");
                server.close(); // the answer has some 16000 tokens to go
                assertThatThrownBy(() -> {
                    while (it.hasNext()) it.next();
                }).isInstanceOf(StreamInterruptedException.class)
                        .satisfies(e -> assertThat("abc".repeat(6000)).startsWith(((StreamInterruptedException) e).partialContent()))
                        .satisfies(e -> assertThat(((StreamInterruptedException) e).partialContent()).startsWith("a"));
            }
            assertThat(c.state()).isEqualTo(CircuitBreaker.State.OPEN);
            ChatResponse next = c.chat(req.withOptions(GenerationOptions.greedy().withMaxTokens(6)));
            assertThat(next.route().kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(next.content()).isEqualTo("abcabc");
        } finally {
            server.close();
        }
    }

    /** Accepts connections, counts them, never answers. */
    static final class CountingSocket implements AutoCloseable {
        final ServerSocket socket;
        final AtomicInteger accepted = new AtomicInteger();
        final List<Socket> open = new ArrayList<>();
        final Thread thread;

        CountingSocket() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    while (true) {
                        Socket s = socket.accept();
                        accepted.incrementAndGet();
                        synchronized (open) {
                            open.add(s);
                        }
                    }
                } catch (IOException closed) {
                    // closed
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (open) {
                for (Socket s : open) s.close();
            }
        }
    }

    @Test
    void forcedOfflineModeNeverOpensASocket() throws Exception {
        try (CountingSocket counter = new CountingSocket()) {
            RemoteBuilder remote = AutoGLMClient.remote().baseUrl(counter.url()).requestTimeout(Duration.ofSeconds(2));
            try (AutoGLMClient c = AutoGLMClient.hybrid().remote(remote).local(AutoGLMClient.inProcess().bundledModel())
                    .probeInterval(PROBE).forceOffline(true).build();
                 AutoGLMClient seed = new AutoGLMClient.Builder().enableOfflineMode(true).setModelSize(ModelSize.LITE)
                         .setServerUrl(counter.url()).forceOffline(true).build()) {
                ChatResponse r = c.chat(ask(List.of(ChatMessage.user("月"))));
                assertThat(r.route()).isEqualTo(Route.local("forced offline (no network use)"));
                try (ChatStream s = c.stream(ask(List.of(ChatMessage.user("月"))))) {
                    s.forEach(p -> { });
                    assertThat(s.response().route().kind()).isEqualTo(Route.Kind.LOCAL);
                }
                assertThat(c.countTokens("月")).isPositive();
                assertThat(seed.generate("请总结以下会议记录要点", "会议讨论了春天的诗。")).isNotNull();
                Thread.sleep(PROBE.toMillis() * 3); // probes would have run by now
            }
            assertThat(counter.accepted.get()).isZero();

            // the control: the same client online does connect (the counter counts), times out, answers locally
            try (AutoGLMClient c = AutoGLMClient.hybrid().remote(remote).local(AutoGLMClient.inProcess().bundledModel())
                    .probeInterval(Duration.ofHours(1)).forceOffline(false).build()) {
                ChatResponse r = c.chat(ask(List.of(ChatMessage.user("月"))));
                assertThat(r.route().kind()).isEqualTo(Route.Kind.LOCAL);
                assertThat(r.route().reason()).contains("no answer from");
            }
            assertThat(counter.accepted.get()).isPositive();
        }
    }

    @Test
    void aPromptTooLongForTheLocalModelIsAClearErrorWhenFallingBack() {
        try (AutoGLMClient c = AutoGLMClient.hybrid().remote(AutoGLMClient.remote().baseUrl("http://127.0.0.1:9"))
                .local(AutoGLMClient.inProcess().bundledModel()).probeInterval(Duration.ofHours(1)).build()) {
            assertThatThrownBy(() -> c.chat(ChatRequest.of("月".repeat(2000))))
                    .isInstanceOf(ContextLengthExceededException.class).hasMessageContaining("local model's maximum context length is 256");
        }
    }
}
