package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.config.SecurityConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad input gets one distinct exception with the server's message; close() leaves no thread of the client behind. */
class ErrorsTest {

    @Test
    void aMissingModelFileIsItsOwnException(@TempDir Path dir) {
        Path missing = dir.resolve("nope.gguf");
        assertThatThrownBy(() -> AutoGLMClient.inProcess().model(missing).build())
                .isInstanceOf(ModelFileNotFoundException.class).hasMessageContaining(missing.toString())
                .satisfies(e -> assertThat(((ModelFileNotFoundException) e).path()).isEqualTo(missing));
        assertThatThrownBy(() -> AutoGLMClient.hybrid().remote(AutoGLMClient.remote().baseUrl("http://127.0.0.1:9"))
                .local(AutoGLMClient.inProcess().model(missing)).build()).isInstanceOf(ModelFileNotFoundException.class);
    }

    @Test
    void aBadUrlIsItsOwnException() {
        for (String url : List.of("not a url", "ftp://127.0.0.1/", "localhost:8000", "http:///v1", "")) {
            assertThatThrownBy(() -> AutoGLMClient.remote().baseUrl(url).build()).as(url).isInstanceOf(InvalidEndpointException.class);
        }
        // checked even when forced offline: it is a configuration error, not a network one
        assertThatThrownBy(() -> AutoGLMClient.hybrid().remote(AutoGLMClient.remote().baseUrl("localhost:8000"))
                .local(AutoGLMClient.inProcess().bundledModel()).forceOffline(true).build()).isInstanceOf(InvalidEndpointException.class);
    }

    @Test
    void wrongKeyIs401AndAForbiddenModelIs403WithTheServersMessage(@TempDir Path dir) {
        Path home = dir.resolve("home");
        KeyStore keys = new KeyStore(home.resolve(SecurityConfig.DEFAULT_KEYS_FILE));
        String allowed = keys.create("alice", "user", List.of(TestServers.ALIAS), null).secret();
        String otherModel = keys.create("bob", "user", List.of("some-other-model"), null).secret();
        try (AutoglmServer server = TestServers.startSecured(home)) {
            RemoteBuilder b = TestServers.remote(server);
            try (AutoGLMClient ok = b.apiKey(allowed).build()) {
                assertThat(ok.chat(ChatRequest.of("月").withOptions(GenerationOptions.greedy().withMaxTokens(4))).route().kind()).isEqualTo(Route.Kind.REMOTE);
            }
            try (AutoGLMClient wrong = TestServers.remote(server).apiKey("agk_wrong").build();
                 AutoGLMClient none = TestServers.remote(server).build()) {
                for (AutoGLMClient c : List.of(wrong, none)) {
                    assertThatThrownBy(() -> c.chat(ChatRequest.of("月"))).isInstanceOf(AuthenticationException.class)
                            .hasMessageStartingWith("HTTP 401: ")
                            .satisfies(e -> assertThat(((ServerErrorException) e).status()).isEqualTo(401));
                    assertThatThrownBy(() -> c.stream(ChatRequest.of("月"))).isInstanceOf(AuthenticationException.class);
                }
            }
            try (AutoGLMClient forbidden = TestServers.remote(server).apiKey(otherModel).build()) {
                assertThatThrownBy(() -> forbidden.chat(ChatRequest.of("月"))).isInstanceOf(PermissionDeniedException.class)
                        .hasMessageContaining(TestServers.ALIAS);
            }
            // a hybrid client does not hide a key problem behind the local model
            try (AutoGLMClient hybrid = AutoGLMClient.hybrid().remote(TestServers.remote(server).apiKey("agk_wrong"))
                    .local(AutoGLMClient.inProcess().bundledModel()).probeInterval(Duration.ofHours(1)).build()) {
                assertThatThrownBy(() -> hybrid.chat(ChatRequest.of("月"))).isInstanceOf(AuthenticationException.class);
            }
        }
    }

    static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName).collect(Collectors.toSet());
    }

    @Test
    void closeStopsTheClientsThreadsAndLaterCallsFail() throws Exception {
        try (AutoglmServer server = TestServers.start(0)) {
            Set<String> before = threadNames(); // other test classes' HTTP clients may still be alive: only ours must go
            AutoGLMClient c = AutoGLMClient.hybrid().remote(TestServers.remote(server))
                    .local(AutoGLMClient.inProcess().bundledModel()).probeInterval(Duration.ofMillis(100)).build();
            c.chat(ChatRequest.of("月").withOptions(GenerationOptions.greedy().withMaxTokens(4)));
            assertThat(threadNames()).contains("autoglm-probe", "autoglm-scheduler-client");
            assertThat(threadNames()).anyMatch(n -> n.startsWith("HttpClient-") && !before.contains(n));
            c.close();
            Set<String> after = threadNames();
            assertThat(after).doesNotContain("autoglm-probe", "autoglm-scheduler-client");
            // HttpClient.close() waits for the client to terminate, but a worker of its executor can still be on its way
            // out for a moment afterwards (seen under load): it must be gone soon, not necessarily at once
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (threadNames().stream().anyMatch(n -> n.startsWith("HttpClient-") && !before.contains(n)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(threadNames()).noneMatch(n -> n.startsWith("HttpClient-") && !before.contains(n));
            assertThatThrownBy(() -> c.chat(ChatRequest.of("月"))).isInstanceOf(AutoGLMException.class);
        }
    }
}
