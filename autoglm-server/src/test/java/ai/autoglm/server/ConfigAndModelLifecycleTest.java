package ai.autoglm.server;

import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.ServerConfigFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The YAML config, routing by the {@code model} field, load on first use and unload after keep-alive. */
class ConfigAndModelLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void yamlDeclaresModelsThatLoadOnFirstUseAndUnloadAfterKeepAlive() throws Exception {
        ScriptedModel.chinese(dir.resolve("zh.gguf"), 64);
        TestServer.llamaFile(dir);
        Path yaml = Files.writeString(dir.resolve("autoglm.yaml"), """
                server:
                  host: 127.0.0.1
                  port: 0
                  queue-size: 3
                  request-timeout: 90s
                models:
                  - alias: chinese
                    path: zh.gguf
                    context: 48
                    keep-alive: 1s
                  - alias: random
                    path: llama.gguf
                    slots: 2
                """);
        ServerConfig config = ServerConfigFile.read(yaml);
        assertThat(config.queueSize()).isEqualTo(3);
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(config.models().get(0).path()).isEqualTo(dir.resolve("zh.gguf").toAbsolutePath());
        assertThat(config.models().get(0).keepAlive()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.models().get(1).keepAlive()).isNull();

        try (TestServer client = TestServer.client(AutoglmServer.start(config))) {
            ModelRegistry registry = client.server.registry();
            assertThat(registry.isLoaded("chinese")).isFalse();
            var r = client.post("/v1/chat/completions", ChatApiTest.chat("chinese", "x").put("max_tokens", 6));
            assertThat(TestServer.json(r).get("choices").get(0).get("message").get("content").asText()).isEqualTo("中文");
            assertThat(TestServer.json(client.post("/tokenize", "{\"model\":\"chinese\",\"prompt\":\"a\"}")).get("max_model_len").asInt()).isEqualTo(48);
            assertThat(client.post("/v1/chat/completions", ChatApiTest.chat("random", "x").put("max_tokens", 2)).statusCode()).isEqualTo(200);
            assertThat(registry.isLoaded("random")).isTrue();
            SchedulingTest.waitFor(() -> !registry.isLoaded("chinese"));
            assertThat(registry.isLoaded("random")).as("no keep-alive: stays").isTrue();
            // Loads again on the next request.
            r = client.post("/v1/chat/completions", ChatApiTest.chat("chinese", "x").put("max_tokens", 3));
            assertThat(TestServer.json(r).get("choices").get(0).get("message").get("content").asText()).isEqualTo("中");
        }
    }

    @Test
    void configMistakesNameTheFileAndTheKey() throws Exception {
        Path typo = Files.writeString(dir.resolve("typo.yaml"), "server:\n  prot: 8000\nmodels:\n  - path: x.gguf\n");
        assertThatThrownBy(() -> ServerConfigFile.read(typo)).hasMessageContaining("typo.yaml").hasMessageContaining("server.prot");
        Path badDuration = Files.writeString(dir.resolve("d.yaml"), "models:\n  - path: x.gguf\n    keep-alive: soon\n");
        assertThatThrownBy(() -> ServerConfigFile.read(badDuration)).hasMessageContaining("models[0].keep-alive").hasMessageContaining("soon");
        Path noModels = Files.writeString(dir.resolve("n.yaml"), "server:\n  port: 1\n");
        assertThatThrownBy(() -> ServerConfigFile.read(noModels)).hasMessageContaining("models");
        Path missing = Files.writeString(dir.resolve("m.yaml"), "models:\n  - path: nowhere.gguf\n");
        assertThatThrownBy(() -> AutoglmServer.start(ServerConfigFile.read(missing).withAddress("127.0.0.1", 0)))
                .hasMessageContaining("nowhere.gguf");
    }
}
