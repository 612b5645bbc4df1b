package ai.autoglm.server;

import ai.autoglm.core.testing.ExternalReference;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.CacheConfig;
import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The response cache shared through a real {@code redis-server} (Debian's, started here on a free loopback port):
 * two servers that share nothing else, serving byte-identical copies of one model from different paths, answer
 * each other's repeatable requests; a model with other weights under the same alias does not.
 */
class RedisSharedCacheTest {
    static final Duration TTL = Duration.ofMinutes(10);

    @TempDir
    static Path dir;
    static Process redis;
    static int redisPort;

    @BeforeAll
    static void startRedis() throws Exception {
        String binary = findRedis();
        ExternalReference.require(binary != null, "redis-server is not installed here (apt-get install redis-server; .ci/run installs it): "
                + "the shared-cache test is skipped");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            redisPort = s.getLocalPort();
        }
        redis = new ProcessBuilder(binary, "--port", Integer.toString(redisPort), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        // Ready when it answers PING (readiness, not a timing assertion).
        for (int i = 0; ; i++) {
            try (Jedis j = new Jedis("127.0.0.1", redisPort)) {
                if ("PONG".equals(j.ping())) break;
            } catch (RuntimeException notYet) {
                if (i > 200 || !redis.isAlive()) throw new IllegalStateException("redis-server did not start: " + Files.readString(dir.resolve("redis.log")));
                Thread.sleep(50);
            }
        }
    }

    static String findRedis() {
        for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path f = Path.of(p, "redis-server");
            if (Files.isExecutable(f)) return f.toString();
        }
        return Files.isExecutable(Path.of("/usr/sbin/redis-server")) ? "/usr/sbin/redis-server" : null;
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) redis.destroy();
    }

    static AutoglmServer server(Path model) {
        CacheConfig cache = new CacheConfig("redis://127.0.0.1:" + redisPort, TTL, CacheConfig.DEFAULT_MAX_BYTES, CacheConfig.DEFAULT_MAX_ENTRY_BYTES);
        return AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("llama", model, 256, 1, null, null)), GatewayFilters.NONE.withCache(cache)));
    }

    @Test
    void twoServersShareAnswersThroughRedis() throws IOException {
        Path original = TestServer.llamaFile(dir);
        Path copy = Files.createDirectories(dir.resolve("elsewhere")).resolve("renamed.gguf");
        Files.copy(original, copy);
        Files.setLastModifiedTime(copy, FileTime.fromMillis(0)); // same content, other path and time: same digest
        Path other = ModelFixtures.writeGguf(TestServer.LLAMA.withSeed(99), dir.resolve("other.gguf"), GgmlType.F32);

        String body = "{\"model\":\"llama\",\"max_tokens\":6,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"shared\"}]}";
        try (TestServer a = TestServer.client(server(original)); TestServer b = TestServer.client(server(copy));
             TestServer c = TestServer.client(server(other))) {
            HttpResponse<byte[]> fromA = ResponseCacheTest.post(a, "/v1/chat/completions", body);
            HttpResponse<byte[]> fromB = ResponseCacheTest.post(b, "/v1/chat/completions", body);
            HttpResponse<byte[]> fromC = ResponseCacheTest.post(c, "/v1/chat/completions", body);
            assertThat(fromA.statusCode()).isEqualTo(200);
            assertThat(ResponseCacheTest.cacheHeader(fromA)).isEqualTo("miss");
            assertThat(ResponseCacheTest.cacheHeader(fromB)).isEqualTo("hit");
            ResponseCacheTest.assertSameAnswerWithItsOwnId(fromB, fromA);
            assertThat(ResponseCacheTest.cacheHeader(fromC)).isEqualTo("miss");
            assertThat(ResponseCacheTest.id(fromC)).isNotEqualTo(ResponseCacheTest.id(fromA));

            // Streams are shared too.
            String stream = body.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
            HttpResponse<byte[]> sA = ResponseCacheTest.post(a, "/v1/chat/completions", stream);
            HttpResponse<byte[]> sB = ResponseCacheTest.post(b, "/v1/chat/completions", stream);
            assertThat(ResponseCacheTest.cacheHeader(sB)).isEqualTo("hit");
            ResponseCacheTest.assertSameAnswerWithItsOwnId(sB, sA);
        }
        // Redis holds the entries with the configured time to live.
        try (Jedis j = new Jedis("127.0.0.1", redisPort)) {
            Set<String> keys = j.keys("autoglm:cache:*");
            assertThat(keys).hasSize(3); // a/b's chat and stream, c's chat
            for (String k : keys) assertThat(j.pttl(k)).isPositive().isLessThanOrEqualTo(TTL.toMillis());
        }
    }
}
