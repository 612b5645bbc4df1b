package ai.autoglm.server;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The fixture models on disk and a real server on a free loopback port, plus a plain java.net.http client.
 * Models: {@code llama} (random weights, real attention; 3 slots), {@code zh} (scripted "中文..." one byte per token),
 * {@code tools} (scripted tool call).
 */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ModelFixtures.Spec LLAMA = ModelFixtures.llama().withContext(1024);

    final Path dir;
    final Path llama;
    final AutoglmServer server;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private TestServer(Path dir, ServerConfig config, Path llama) {
        this(dir, AutoglmServer.start(config), llama);
    }

    private TestServer(Path dir, AutoglmServer server, Path llama) {
        this.dir = dir;
        this.llama = llama;
        this.server = server;
    }

    /** The HTTP helpers for a server started elsewhere (closing it closes that server). */
    static TestServer client(AutoglmServer server) {
        return new TestServer(null, server, null);
    }

    static Path llamaFile(Path dir) {
        Path f = dir.resolve("llama.gguf");
        if (!Files.exists(f)) ModelFixtures.writeGguf(LLAMA, f, GgmlType.F32);
        return f;
    }

    /** The three fixture models with the given slot count for llama and queue size. */
    static TestServer start(Path dir, int llamaSlots, int queueSize) {
        Path llama = llamaFile(dir);
        Path zh = ScriptedModel.chinese(dir.resolve("zh.gguf"), 64);
        Path tools = ScriptedModel.toolCaller(dir.resolve("tools.gguf"), 2048);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, queueSize, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("llama", llama, 256, llamaSlots, null, null),
                new ModelSpec("zh", zh, 64, 1, null, null),
                new ModelSpec("tools", tools, 2048, 1, null, "qwen")));
        return new TestServer(dir, config, llama);
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build());
    }

    HttpResponse<String> post(String path, JsonNode body) {
        return post(path, body.toString());
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (status " + r.statusCode() + "): " + r.body(), e);
        }
    }

    /** The value of a sample line in the Prometheus text, e.g. {@code autoglm_queue_depth{model="llama"}}; 0 when absent. */
    double metric(String sample) {
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith(sample + " ")) return Double.parseDouble(line.substring(sample.length() + 1).trim());
        }
        return 0;
    }

    @Override
    public void close() {
        server.close();
    }
}
