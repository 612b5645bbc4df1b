package ai.autoglm.server;

import ai.autoglm.server.config.ClusterConfig;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readiness and draining on a real server: not ready until the model is loaded (the first probe loads it), live
 * throughout; draining turns /health and readiness to 503, refuses new work with 503 {@code server_draining}, and
 * once the grace period is over ends a running stream properly: a last chunk with finish_reason "shutdown", its
 * usage, then [DONE].
 */
class GracefulShutdownTest {
    @TempDir
    Path dir;

    @Test
    void readinessWaitsForTheModelAndDrainingEndsStreamsWithAReason() throws Exception {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("llama", TestServer.llamaFile(dir), 1000, 1, null, null)));
        AutoglmServer server = AutoglmServer.start(config, ClusterConfig.SINGLE.withShutdownGrace(Duration.ZERO));
        try (TestServer s = TestServer.client(server)) {
            assertThat(server.registry().isLoaded("llama")).isFalse();
            assertThat(s.get("/health/live").statusCode()).isEqualTo(200);
            HttpResponse<String> first = s.get("/health/ready");
            assertThat(first.statusCode()).as("not ready before the model is loaded").isEqualTo(503);
            assertThat(TestServer.json(first).get("status").asText()).isEqualTo("loading");
            while (s.get("/health/ready").statusCode() != 200) Thread.sleep(50); // the probe started the load
            assertThat(server.registry().isLoaded("llama")).isTrue();

            String body = "{\"model\":\"llama\",\"max_tokens\":900,\"ignore_eos\":true,\"temperature\":0,\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}";
            HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.base() + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.statusCode()).isEqualTo(200);
            BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            List<String> events = new ArrayList<>();
            String line;
            while ((line = in.readLine()) != null && events.size() < 3) if (line.startsWith("data: ")) events.add(line.substring(6));

            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(server::drain);
            while (!server.lifecycle().draining()) Thread.sleep(5);
            while ((line = in.readLine()) != null) if (line.startsWith("data: ")) events.add(line.substring(6));
            assertThat(drained.get()).as("the grace period (0 s) ran out").isFalse();

            assertThat(events.getLast()).isEqualTo("[DONE]");
            JsonNode usage = TestServer.JSON.readTree(events.get(events.size() - 2));
            JsonNode last = TestServer.JSON.readTree(events.get(events.size() - 3));
            assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo("shutdown");
            assertThat(usage.at("/usage/completion_tokens").asInt()).as("ended early, with its usage").isBetween(1, 899);

            HttpResponse<String> health = s.get("/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(TestServer.json(health).get("status").asText()).isEqualTo("draining");
            assertThat(s.get("/health/ready").statusCode()).isEqualTo(503);
            assertThat(s.get("/health/live").statusCode()).as("still alive while draining").isEqualTo(200);
            HttpResponse<String> refused = s.post("/v1/chat/completions", body.replace("\"stream\":true", "\"stream\":false"));
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(TestServer.json(refused).at("/error/code").asText()).isEqualTo("server_draining");
            assertThat(refused.headers().firstValue("Retry-After")).contains("1");
        }
    }
}
