package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.ServerConfigFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code server.console: false} (and {@code serve --no-console}, which sets the same switch): {@code /} is a 404 like any unknown route. */
class ConsoleSwitchTest {
    @TempDir
    Path dir;

    @Test
    void consoleOffAnswersNotFoundAtTheRootAndTheApiStillWorks() {
        Path zh = ScriptedModel.chinese(dir.resolve("zh.gguf"), 64);
        ServerConfig on = new ServerConfig("127.0.0.1", 0, 1 << 20, 4, Duration.ofMinutes(1), 256, List.of(new ModelSpec("zh", zh, 64, 1, null, null)));
        assertThat(on.console()).isTrue();
        try (AutoglmServer server = AutoglmServer.start(on.withConsole(false))) {
            TestServer http = TestServer.client(server);
            for (String path : List.of("/", "/console/", "/console/app.js")) {
                HttpResponse<String> r = http.get(path);
                assertThat(r.statusCode()).as(path).isEqualTo(404);
                assertThat(TestServer.json(r).get("error").get("code").asText()).isEqualTo("not_found");
                assertThat(r.headers().firstValue("Content-Security-Policy")).isEmpty();
            }
            assertThat(http.get("/v1/models").statusCode()).isEqualTo(200);
        }
        try (AutoglmServer server = AutoglmServer.start(on)) {
            assertThat(TestServer.client(server).get("/").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void configKeyTurnsItOff() throws Exception {
        Path zh = ScriptedModel.chinese(dir.resolve("zh.gguf"), 64);
        Path off = Files.writeString(dir.resolve("off.yaml"), "server:\n  console: false\nmodels:\n  - alias: zh\n    path: " + zh + "\n");
        Path dflt = Files.writeString(dir.resolve("default.yaml"), "models:\n  - alias: zh\n    path: " + zh + "\n");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "server:\n  console: nope\nmodels:\n  - alias: zh\n    path: " + zh + "\n");
        assertThat(ServerConfigFile.read(off).console()).isFalse();
        assertThat(ServerConfigFile.read(dflt).console()).isTrue();
        assertThat(ServerConfigFile.read(off).withQueueSize(3).console()).isFalse(); // kept through the with-methods
        assertThatThrownBy(() -> ServerConfigFile.read(bad)).hasMessageContaining("server.console").hasMessageContaining("true or false");
    }
}
