package ai.autoglm.cli;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.hub.LocalHub;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code autoglm serve --model NAME --quantize int4} as a real process against a local hub (HF_ENDPOINT, HF_HOME in
 * its environment): the first start pulls the safetensors model, converts and quantizes it once into the derived
 * store and answers a chat request; the second start, with HF_ENDPOINT pointing at a port that only counts
 * connections, opens none and answers from the stored GGUF.
 */
class ServeByNameEndToEndTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/v1");

    @TempDir
    Path tmp;

    @Test
    void firstStartPullsConvertsAndServesSecondStartOpensNoConnection() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        Path hfHome = tmp.resolve("hf");
        try (LocalHub hub = new LocalHub()) {
            hub.publish("test-org/tiny-qwen", repo, null);
            String answer = serveAndAsk(hub.endpoint().toString(), hfHome);
            assertThat(answer).isNotNull();
            assertThat(hub.requests.get()).isPositive();
        }
        Path snapshots = hfHome.resolve("hub/models--test-org--tiny-qwen/snapshots");
        String commit;
        try (var s = Files.list(snapshots)) {
            commit = s.findFirst().orElseThrow().getFileName().toString();
        }
        Path derived = hfHome.resolve("autoglm/models--test-org--tiny-qwen").resolve(commit).resolve("derived/q4_k.gguf");
        assertThat(derived).isRegularFile();
        long made = Files.getLastModifiedTime(derived).toMillis();

        try (ServerSocket counting = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            AtomicInteger accepted = new AtomicInteger();
            Thread t = new Thread(() -> {
                while (!counting.isClosed()) {
                    try (Socket s = counting.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            serveAndAsk("http://127.0.0.1:" + counting.getLocalPort(), hfHome);
            assertThat(accepted.get()).as("connections to the hub on the second start").isZero();
        }
        assertThat(Files.getLastModifiedTime(derived).toMillis()).as("the derived GGUF is reused, not rewritten").isEqualTo(made);
    }

    /** Starts serve in a new JVM, waits for its port, asks one chat completion, stops it; returns the answer text. */
    private String serveAndAsk(String endpoint, Path hfHome) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss16m",
                "-cp", System.getProperty("java.class.path"), AutoglmCli.class.getName(),
                "serve", "--model", "test-org/tiny-qwen", "--quantize", "int4", "--port", "0", "--ctx", "128", "--home", tmp.resolve("home").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("HF_ENDPOINT", endpoint);
        pb.environment().put("HF_HOME", hfHome.toString());
        pb.environment().remove("HF_TOKEN");
        pb.environment().remove("HF_HUB_OFFLINE");
        pb.environment().remove("HF_HUB_CACHE");
        pb.environment().remove("AUTOGLM_STORE");
        Process p = pb.start();
        StringBuilder log = new StringBuilder();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            String line;
            while ((line = r.readLine()) != null) {
                log.append(line).append('\n');
                Matcher m = SERVING.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    break;
                }
            }
            assertThat(port).as(log.toString()).isPositive();
            Thread drain = new Thread(() -> {
                try {
                    r.transferTo(java.io.Writer.nullWriter());
                } catch (IOException ignored) {
                }
            });
            drain.setDaemon(true);
            drain.start();
            String body = "{\"model\":\"test-org/tiny-qwen\",\"max_tokens\":4,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(resp.statusCode()).as(resp.body() + "\n" + log).isEqualTo(200);
                JsonNode j = JSON.readTree(resp.body());
                assertThat(j.path("usage").path("completion_tokens").asInt()).isPositive();
                return j.path("choices").path(0).path("message").path("content").asText();
            }
        } finally {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }
}
