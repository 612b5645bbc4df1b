package ai.autoglm.cli;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.hub.LocalHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 through the config file: {@code models: [{model: NAME, quantize: int4}]} with {@code server.source} and
 * {@code server.offline}, as a real {@code serve --config} process against the local hub. {@code source: modelscope}
 * pulls from MODELSCOPE_ENDPOINT while HF_ENDPOINT (a port that only counts connections) is never contacted;
 * {@code offline: true} then serves from the cache and the derived store with no connection to either; offline with
 * a model that is not cached is one clear error. The model entry leaves its slots to the server ({@code slots: auto})
 * and asks for an f16 key cache, both read before the pull.
 */
class ServeConfigByNameTest {
    @TempDir
    Path tmp;

    private Path config(String name, boolean offline, String model) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, """
                server:
                  host: 127.0.0.1
                  port: 0
                  source: modelscope
                  offline: %s
                models:
                  - model: %s
                    alias: tiny
                    quantize: int4
                    context: 128
                    slots: auto
                    cache-type-k: f16
                """.formatted(offline, model));
        return f;
    }

    @Test
    void configNamesAModelWithSourceAndOffline() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        Path hf = tmp.resolve("hf");
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
            String nowhere = "http://127.0.0.1:" + counting.getLocalPort();
            try (LocalHub hub = new LocalHub()) {
                hub.publish("test-org/tiny-qwen", repo, null);
                Map<String, String> env = Map.of("HF_HOME", hf.toString(), "HF_ENDPOINT", nowhere, "MODELSCOPE_ENDPOINT", hub.endpoint().toString());
                ServeProcess.Answer first = ServeProcess.serveAndAsk(env, "tiny", "--config", config("online.yaml", false, "test-org/tiny-qwen").toString(),
                        "--home", tmp.resolve("home").toString());
                assertThat(first.status()).as(first.body() + "\n" + first.log()).isEqualTo(200);
                assertThat(hub.requests.get()).as("pulled from the ModelScope endpoint").isPositive();
            }
            assertThat(accepted.get()).as("connections to HF_ENDPOINT with server.source: modelscope").isZero();
            Path snapshots = hf.resolve("hub/models--test-org--tiny-qwen/snapshots");
            String commit;
            try (Stream<Path> s = Files.list(snapshots)) {
                commit = s.findFirst().orElseThrow().getFileName().toString();
            }
            Path derived = hf.resolve("autoglm/models--test-org--tiny-qwen").resolve(commit).resolve("derived/q4_k.gguf");
            assertThat(derived).isRegularFile();
            long made = Files.getLastModifiedTime(derived).toMillis();

            Map<String, String> unreachable = Map.of("HF_HOME", hf.toString(), "HF_ENDPOINT", nowhere, "MODELSCOPE_ENDPOINT", nowhere);
            ServeProcess.Answer second = ServeProcess.serveAndAsk(unreachable, "tiny", "--config", config("offline.yaml", true, "test-org/tiny-qwen").toString(),
                    "--home", tmp.resolve("home").toString());
            assertThat(second.status()).as(second.body() + "\n" + second.log()).isEqualTo(200);
            assertThat(accepted.get()).as("connections with server.offline: true").isZero();
            assertThat(Files.getLastModifiedTime(derived).toMillis()).isEqualTo(made);

            ServeProcess.Answer absent = ServeProcess.runToExit(unreachable, "--config", config("absent.yaml", true, "test-org/absent").toString(),
                    "--home", tmp.resolve("home").toString());
            assertThat(absent.status()).as(absent.log()).isEqualTo(2);
            assertThat(absent.log()).contains("absent.yaml").contains("test-org/absent").contains("not in the cache");
            assertThat(accepted.get()).isZero();
        }
    }
}
