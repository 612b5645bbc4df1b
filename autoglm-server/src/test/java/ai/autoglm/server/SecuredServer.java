package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.config.SecurityConfig;

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
import java.util.function.UnaryOperator;

/**
 * A real server with the gateway on: data directory {@code dir/home}, two scripted models ({@code zh}, {@code tools}),
 * and a plain java.net.http client that can send a key.
 */
final class SecuredServer implements AutoCloseable {
    final Path home;
    final KeyStore keys;
    final AutoglmServer server;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    SecuredServer(Path dir, UnaryOperator<SecurityConfig> security) {
        this(dir, security, ai.autoglm.server.config.GatewayFilters.NONE);
    }

    SecuredServer(Path dir, UnaryOperator<SecurityConfig> security, ai.autoglm.server.config.GatewayFilters filters) {
        this.home = dir.resolve("home");
        this.keys = new KeyStore(home.resolve(SecurityConfig.DEFAULT_KEYS_FILE));
        Path zh = dir.resolve("zh.gguf");
        Path tools = dir.resolve("tools.gguf");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!Files.exists(zh)) ScriptedModel.chinese(zh, 64);
        if (!Files.exists(tools)) ScriptedModel.toolCaller(tools, 2048);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 64, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("zh", zh, 64, 1, null, null),
                new ModelSpec("tools", tools, 2048, 1, null, "qwen")),
                security.apply(SecurityConfig.defaults(home))).withFilters(filters);
        this.server = AutoglmServer.start(config);
    }

    String base() {
        return (server.tls() ? "https" : "http") + "://127.0.0.1:" + server.port();
    }

    /** GET when body is null, else POST of the JSON body; key null sends no Authorization header. */
    HttpResponse<String> send(String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60));
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (body == null) b.GET();
        else b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    Path auditDir() {
        return home.resolve("audit");
    }

    @Override
    public void close() {
        server.close();
    }
}
