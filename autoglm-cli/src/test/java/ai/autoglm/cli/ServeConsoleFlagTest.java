package ai.autoglm.cli;

import ai.autoglm.server.config.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code serve --no-console} turns the console off on top of a config that has it on (the default). */
class ServeConsoleFlagTest {
    @TempDir
    Path dir;

    private ServerConfig resolve(String... args) throws Exception {
        ServeCommand serve = new ServeCommand();
        new picocli.CommandLine(serve).parseArgs(args);
        return serve.resolve();
    }

    @Test
    void noConsoleFlagAndConfigKey() throws Exception {
        Path cfg = Files.writeString(dir.resolve("on.yaml"), "models:\n  - alias: m\n    path: m.gguf\n");
        Path off = Files.writeString(dir.resolve("off.yaml"), "server:\n  console: false\nmodels:\n  - alias: m\n    path: m.gguf\n");
        String home = dir.resolve("home").toString();
        assertThat(resolve("--config", cfg.toString(), "--home", home).console()).isTrue();
        assertThat(resolve("--config", cfg.toString(), "--home", home, "--no-console").console()).isFalse();
        assertThat(resolve("--config", off.toString(), "--home", home).console()).isFalse();
    }
}
