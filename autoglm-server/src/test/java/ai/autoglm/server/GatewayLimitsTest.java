package ai.autoglm.server;

import ai.autoglm.server.config.SecurityConfig;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-key request and token limits, and keys created or revoked while the server runs. */
class GatewayLimitsTest {
    @TempDir
    static Path dir;
    static SecuredServer s;

    @BeforeAll
    static void start() {
        s = new SecuredServer(dir, sec -> sec.withLimits(new SecurityConfig.Limits(
                Map.of("user", new SecurityConfig.Limit(null, 40L)),
                Map.of("burst", new SecurityConfig.Limit(7, null)))));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    @Test
    void aConcurrentBurstGetsExactlyTheLimit() throws Exception {
        String key = s.keys.create("burst", "reader", List.of(), null).secret();
        int clients = 40;
        CountDownLatch go = new CountDownLatch(1);
        List<HttpResponse<String>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<HttpResponse<String>>> fs = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    return s.send("/v1/models", null, key);
                }));
            }
            go.countDown();
            for (Future<HttpResponse<String>> f : fs) answers.add(f.get());
        }
        assertThat(answers.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(7);
        for (HttpResponse<String> r : answers) {
            if (r.statusCode() == 200) continue;
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(TestServer.json(r).get("error").get("type").asText()).isEqualTo("rate_limit_error");
            long retry = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
            assertThat(retry).isBetween(1L, 60L);
        }
        // another key is not affected
        String other = s.keys.create("other", "reader", List.of(), null).secret();
        assertThat(s.send("/v1/models", null, other).statusCode()).isEqualTo(200);
    }

    @Test
    void theDailyTokenQuotaStopsAKeyOnceSpent() {
        String key = s.keys.create("quota", "user", List.of(), null).secret();
        String chat = "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}";
        HttpResponse<String> first = s.send("/v1/chat/completions", chat, key);
        assertThat(first.statusCode()).isEqualTo(200);
        int perRequest = TestServer.json(first).get("usage").get("total_tokens").asInt();
        int expectedAllowed = (40 + perRequest - 1) / perRequest; // allowed while the balance is positive
        int allowed = 1;
        HttpResponse<String> r;
        while ((r = s.send("/v1/chat/completions", chat, key)).statusCode() == 200) allowed++;
        assertThat(allowed).isEqualTo(expectedAllowed);
        assertThat(r.statusCode()).isEqualTo(429);
        JsonNode e = TestServer.json(r).get("error");
        assertThat(e.get("message").asText()).contains("tokens per day");
        assertThat(r.headers().firstValue("retry-after")).isPresent();
    }

    @Test
    void keysCreatedAndRevokedWhileRunningCountFromTheNextRequest() {
        try (SecuredServer open = new SecuredServer(dir.resolve("open"), sec -> sec)) {
            assertThat(open.send("/v1/models", null, null).statusCode()).as("no keys yet: open").isEqualTo(200);
            String k = open.keys.create("first", "user", List.of(), null).secret();
            assertThat(open.send("/v1/models", null, null).statusCode()).as("a key exists: closed").isEqualTo(401);
            assertThat(open.send("/v1/models", null, k).statusCode()).isEqualTo(200);
            open.keys.revoke("first");
            assertThat(open.send("/v1/models", null, k).statusCode()).as("revoked without restart").isEqualTo(401);
            assertThat(open.send("/v1/models", null, null).statusCode()).as("revoking the last key does not open the server").isEqualTo(401);
            assertThat(open.send("/health", null, null).statusCode()).isEqualTo(200);
        }
    }
}
