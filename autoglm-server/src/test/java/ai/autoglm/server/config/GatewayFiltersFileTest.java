package ai.autoglm.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cache:, pii: and trust: sections of the config file, and their errors (each naming the file and the key). */
class GatewayFiltersFileTest {
    @TempDir
    Path dir;

    ServerConfig read(String gateway) throws IOException {
        Path f = dir.resolve("autoglm.yaml");
        Files.writeString(f, "models:\n  - path: m.gguf\n" + gateway);
        return ServerConfigFile.read(f);
    }

    @Test
    void sectionsAreRead() throws IOException {
        ServerConfig c = read("""
                cache:
                  redis: redis://127.0.0.1:6390/2
                  ttl: 30m
                  max-entry-bytes: 1000
                pii:
                  input: reject
                  output: off
                  patterns: [{name: ticket, regex: 'T-\\d+'}]
                  blocked-terms: [aurora]
                trust:
                  keys: [keys/a.pub]
                """);
        assertThat(c.filters().cache().redisUrl()).isEqualTo("redis://127.0.0.1:6390/2");
        assertThat(c.filters().cache().ttl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.filters().cache().maxEntryBytes()).isEqualTo(1000);
        assertThat(c.filters().pii().input()).isEqualTo(PiiConfig.Action.REJECT);
        assertThat(c.filters().pii().output()).isEqualTo(PiiConfig.Action.OFF);
        assertThat(c.filters().pii().kinds()).isEqualTo(PiiConfig.BUILT_IN_KINDS);
        assertThat(c.filters().pii().patterns().getFirst().regex().pattern()).isEqualTo("T-\\d+");
        assertThat(c.filters().trust().keys()).containsExactly(dir.resolve("keys/a.pub"));
        // Absent sections: no cache, no filter, no trust.
        ServerConfig none = read("");
        assertThat(none.filters()).isEqualTo(GatewayFilters.NONE);
        assertThat(read("cache:\n").filters().cache()).isEqualTo(CacheConfig.inProcess());
    }

    @Test
    void mistakesAreNamed() {
        assertThatThrownBy(() -> read("cache:\n  tll: 5m\n")).hasMessageContaining("unknown key 'cache.tll'");
        assertThatThrownBy(() -> read("pii:\n  input: mask\n")).hasMessageContaining("'pii.input' must be redact, reject or off");
        assertThatThrownBy(() -> read("pii:\n  output: reject\n")).hasMessageContaining("pii.output must be redact or off");
        assertThatThrownBy(() -> read("pii:\n  kinds: [passport]\n")).hasMessageContaining("unknown kind 'passport'");
        assertThatThrownBy(() -> read("pii:\n  patterns: [{name: x, regex: '(('}]\n")).hasMessageContaining("'pii.patterns[0].regex' is not a valid Java regex");
        assertThatThrownBy(() -> read("cache:\n  redis: localhost:6379\n")).hasMessageContaining("'cache.redis' must be a redis://host:port URL");
    }
}
