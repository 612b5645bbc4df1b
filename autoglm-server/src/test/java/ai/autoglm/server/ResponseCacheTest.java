package ai.autoglm.server;

import ai.autoglm.server.config.CacheConfig;
import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-process response cache through the real server: what is cached, what is not, and that hits are byte-identical. */
class ResponseCacheTest {
    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("llama", TestServer.llamaFile(dir), 256, 2, null, null)),
                GatewayFilters.NONE.withCache(CacheConfig.inProcess()));
        server = TestServer.client(AutoglmServer.start(config));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static HttpResponse<byte[]> post(TestServer s, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        try {
            return s.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String cacheHeader(HttpResponse<?> r) {
        return r.headers().firstValue("X-Autoglm-Cache").orElse(null);
    }

    static String chat(String prompt, String extra) {
        return "{\"model\":\"llama\",\"max_tokens\":6," + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    }

    @Test
    void greedyAnswerIsServedFromTheCacheByteForByte() {
        String body = chat("greedy one", "\"temperature\":0");
        HttpResponse<byte[]> first = post(server, "/v1/chat/completions", body);
        HttpResponse<byte[]> second = post(server, "/v1/chat/completions", body);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(cacheHeader(first)).isEqualTo("miss");
        assertThat(cacheHeader(second)).isEqualTo("hit");
        assertSameAnswerWithItsOwnId(second, first);
        assertThat(second.headers().firstValue("Content-Type")).contains("application/json");

        // The same request with its fields in another order and other spacing is the same request.
        String reordered = "{ \"messages\": [{\"content\": \"greedy one\", \"role\": \"user\"}], \"temperature\": 0, \"max_tokens\": 6, \"model\": \"llama\" }";
        HttpResponse<byte[]> third = post(server, "/v1/chat/completions", reordered);
        assertThat(cacheHeader(third)).isEqualTo("hit");
        assertSameAnswerWithItsOwnId(third, first);

        // What the cache returned is what the model says: a fresh answer (no-store) has the same message.
        HttpResponse<byte[]> fresh = post(server, "/v1/chat/completions", body, "Cache-Control", "no-store");
        assertThat(cacheHeader(fresh)).isEqualTo("bypass");
        assertThat(content(fresh)).isEqualTo(content(first));
        assertThat(id(fresh)).isNotEqualTo(id(first));
    }

    @Test
    void streamedAnswerIsReplayedByteForByte() {
        String body = chat("greedy stream", "\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}");
        HttpResponse<byte[]> first = post(server, "/v1/chat/completions", body);
        HttpResponse<byte[]> second = post(server, "/v1/chat/completions", body);
        assertThat(cacheHeader(first)).isEqualTo("miss");
        assertThat(cacheHeader(second)).isEqualTo("hit");
        assertThat(new String(second.body(), StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");
        assertSameAnswerWithItsOwnId(second, first);
        assertThat(second.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        // The stream and the plain answer are different responses, cached apart.
        HttpResponse<byte[]> plain = post(server, "/v1/chat/completions", chat("greedy stream", "\"temperature\":0"));
        assertThat(cacheHeader(plain)).isEqualTo("miss");
    }

    @Test
    void sampledRequestsAreNeverCachedButSeededOnesAre() {
        String sampled = chat("sampled", "\"temperature\":0.9");
        HttpResponse<byte[]> a = post(server, "/v1/chat/completions", sampled);
        HttpResponse<byte[]> b = post(server, "/v1/chat/completions", sampled);
        assertThat(a.statusCode()).isEqualTo(200);
        assertThat(cacheHeader(a)).isNull();
        assertThat(cacheHeader(b)).isNull();
        assertThat(id(a)).isNotEqualTo(id(b));

        String seeded = chat("sampled", "\"temperature\":0.9,\"seed\":7");
        HttpResponse<byte[]> c = post(server, "/v1/chat/completions", seeded);
        HttpResponse<byte[]> d = post(server, "/v1/chat/completions", seeded);
        assertThat(cacheHeader(c)).isEqualTo("miss");
        assertThat(cacheHeader(d)).isEqualTo("hit");
        assertSameAnswerWithItsOwnId(d, c);
    }

    @Test
    void noCacheSkipsTheLookupAndStoresTheFreshAnswer() {
        String body = "{\"model\":\"llama\",\"prompt\":\"once upon\",\"max_tokens\":5,\"temperature\":0}";
        HttpResponse<byte[]> first = post(server, "/v1/completions", body);
        HttpResponse<byte[]> refreshed = post(server, "/v1/completions", body, "Cache-Control", "no-cache");
        HttpResponse<byte[]> after = post(server, "/v1/completions", body);
        assertThat(cacheHeader(first)).isEqualTo("miss");
        assertThat(cacheHeader(refreshed)).isEqualTo("bypass");
        assertThat(id(refreshed)).isNotEqualTo(id(first));
        assertThat(cacheHeader(after)).isEqualTo("hit");
        assertSameAnswerWithItsOwnId(after, refreshed);
    }

    @Test
    void errorsAreNotCached() {
        String body = "{\"model\":\"llama\",\"prompt\":\"x\",\"max_tokens\":5,\"temperature\":0,\"top_p\":0}";
        HttpResponse<byte[]> first = post(server, "/v1/completions", body);
        HttpResponse<byte[]> second = post(server, "/v1/completions", body);
        assertThat(first.statusCode()).isEqualTo(400);
        assertThat(second.statusCode()).isEqualTo(400);
        assertThat(cacheHeader(second)).isNotEqualTo("hit");
    }

    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("\"id\":\"((?:chat)?cmpl-[0-9a-f]+)\"");
    private static final java.util.regex.Pattern CREATED = java.util.regex.Pattern.compile("\"created\":(\\d+)");

    /**
     * A cache hit is the first answer byte for byte except its {@code id} and {@code created} (issue 15 item 8): every
     * id in the hit is new (one id for all events of a stream), none is the first answer's.
     */
    static void assertSameAnswerWithItsOwnId(HttpResponse<byte[]> hit, HttpResponse<byte[]> first) {
        String h = new String(hit.body(), StandardCharsets.UTF_8);
        String f = new String(first.body(), StandardCharsets.UTF_8);
        java.util.Set<String> hitIds = new java.util.HashSet<>();
        java.util.Set<String> firstIds = new java.util.HashSet<>();
        ID.matcher(h).results().forEach(m -> hitIds.add(m.group(1)));
        ID.matcher(f).results().forEach(m -> firstIds.add(m.group(1)));
        assertThat(hitIds).hasSize(1);
        assertThat(firstIds).hasSize(1);
        assertThat(hitIds).doesNotContainAnyElementsOf(firstIds);
        assertThat(hitIds.iterator().next()).startsWith(firstIds.iterator().next().replaceAll("-.*", "-"));
        assertThat(CREATED.matcher(h).results().count()).isEqualTo(CREATED.matcher(f).results().count());
        String norm = "\"id\":\"ID\"";
        assertThat(CREATED.matcher(ID.matcher(h).replaceAll(norm)).replaceAll("\"created\":0"))
                .isEqualTo(CREATED.matcher(ID.matcher(f).replaceAll(norm)).replaceAll("\"created\":0"));
    }

    /**
     * Issue 15 item 8: the cache is per API key by default, so key B's identical request never learns from a hit that
     * key A asked it (nor A's id and time); {@code scope: role} shares within a role.
     */
    @Test
    void cacheIsScopedPerKeyByDefault(@org.junit.jupiter.api.io.TempDir Path own) {
        String body = "{\"model\":\"zh\",\"max_tokens\":4,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"secret plan\"}]}";
        try (SecuredServer s = new SecuredServer(own.resolve("per-key"), sec -> sec, GatewayFilters.NONE.withCache(CacheConfig.inProcess()))) {
            String a = s.keys.create("a", "user", List.of(), null).secret();
            String b = s.keys.create("b", "user", List.of(), null).secret();
            HttpResponse<String> a1 = s.send("/v1/chat/completions", body, a);
            HttpResponse<String> b1 = s.send("/v1/chat/completions", body, b);
            HttpResponse<String> a2 = s.send("/v1/chat/completions", body, a);
            assertThat(a1.headers().firstValue("X-Autoglm-Cache")).contains("miss");
            assertThat(b1.headers().firstValue("X-Autoglm-Cache")).as("another key's answer is not served").contains("miss");
            assertThat(a2.headers().firstValue("X-Autoglm-Cache")).contains("hit");
            assertThat(TestServer.json(b1).get("id").asText()).isNotEqualTo(TestServer.json(a1).get("id").asText());
            assertThat(TestServer.json(a2).get("id").asText()).isNotEqualTo(TestServer.json(a1).get("id").asText());
        }
        try (SecuredServer s = new SecuredServer(own.resolve("per-role"), sec -> sec,
                GatewayFilters.NONE.withCache(CacheConfig.inProcess().withScope(CacheConfig.Scope.ROLE)))) {
            String a = s.keys.create("a", "user", List.of(), null).secret();
            String b = s.keys.create("b", "user", List.of(), null).secret();
            String admin = s.keys.create("root", "admin", List.of(), null).secret();
            HttpResponse<String> a1 = s.send("/v1/chat/completions", body, a);
            HttpResponse<String> b1 = s.send("/v1/chat/completions", body, b);
            HttpResponse<String> r1 = s.send("/v1/chat/completions", body, admin);
            assertThat(a1.headers().firstValue("X-Autoglm-Cache")).contains("miss");
            assertThat(b1.headers().firstValue("X-Autoglm-Cache")).as("same role shares").contains("hit");
            assertThat(r1.headers().firstValue("X-Autoglm-Cache")).as("another role does not").contains("miss");
            assertThat(TestServer.json(b1).get("id").asText()).isNotEqualTo(TestServer.json(a1).get("id").asText());
        }
    }

    static String id(HttpResponse<byte[]> r) {
        return json(r).get("id").asText();
    }

    static String content(HttpResponse<byte[]> r) {
        return json(r).at("/choices/0/message/content").asText();
    }

    static com.fasterxml.jackson.databind.JsonNode json(HttpResponse<byte[]> r) {
        try {
            return TestServer.JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new AssertionError(new String(r.body(), StandardCharsets.UTF_8), e);
        }
    }
}
