package ai.autoglm.server.config;

import ai.autoglm.server.config.SecurityConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The security: section of the YAML config, and its errors naming file and key. */
class SecurityConfigFileTest {
    @TempDir
    Path dir;

    ServerConfig read(String security) throws Exception {
        Path f = dir.resolve("server.yaml");
        Files.writeString(f, "models:\n  - alias: m\n    path: m.gguf\n" + security);
        return ServerConfigFile.read(f);
    }

    @Test
    void everySetting() throws Exception {
        SecurityConfig s = read("""
                security:
                  keys-file: /etc/autoglm/keys.json
                  roles:
                    analyst: {routes: [inference, /metrics], models: [m]}
                  limits:
                    roles: {user: {requests-per-minute: 60, tokens-per-day: 200000}}
                    keys: {ci: {requests-per-minute: 600}}
                    unauthenticated-per-minute: 10
                  audit: {directory: /var/log/autoglm, max-file-bytes: 1048576, include-text: true, keep-files: 5, keep-days: 30}
                  tls: {certificate: cert.pem, private-key: key.pem}
                  cors: {allowed-origins: [https://app.example]}
                  max-header-bytes: 32768
                """).security();
        assertThat(s.keysPath()).isEqualTo(Path.of("/etc/autoglm/keys.json"));
        assertThat(s.roles()).singleElement().satisfies(r -> {
            assertThat(r.allowsRoute("/v1/chat/completions")).isTrue();
            assertThat(r.allowsRoute("/admin/keys")).isFalse();
            assertThat(r.allowsModel("m")).isTrue();
            assertThat(r.allowsModel("other")).isFalse();
        });
        assertThat(s.limits().forKey("ci", "user").requestsPerMinute()).isEqualTo(600);
        assertThat(s.limits().forKey("bob", "user").tokensPerDay()).isEqualTo(200000L);
        assertThat(s.auditDirectory()).isEqualTo(Path.of("/var/log/autoglm"));
        assertThat(s.audit().includeText()).isTrue();
        assertThat(s.audit().retention()).isEqualTo(new ai.autoglm.server.security.AuditLog.Retention(5, java.time.Duration.ofDays(30)));
        assertThat(s.limits().unauthenticatedPerMinute()).isEqualTo(10);
        assertThat(s.tls().certificate()).isEqualTo(dir.resolve("cert.pem"));
        assertThat(s.corsOrigins()).containsExactly("https://app.example");
        assertThat(s.maxHeaderBytes()).isEqualTo(32768);
    }

    @Test
    void defaultsWithoutTheSection() throws Exception {
        SecurityConfig s = read("").security();
        assertThat(s.audit().enabled()).isTrue();
        assertThat(s.corsOrigins()).isEmpty();
        assertThat(s.tls()).isNull();
        assertThat(s.withHome(dir).keysPath()).isEqualTo(dir.resolve("keys.json"));
        assertThat(s.withHome(dir).auditDirectory()).isEqualTo(dir.resolve("audit"));
    }

    @Test
    void mistakesNameTheFileAndKey() {
        assertThatThrownBy(() -> read("security:\n  keyz: x\n")).hasMessageContaining("server.yaml").hasMessageContaining("security.keyz");
        assertThatThrownBy(() -> read("security:\n  roles:\n    x: {routes: [/v1/everything]}\n"))
                .hasMessageContaining("security.roles.x").hasMessageContaining("/v1/everything");
        assertThatThrownBy(() -> read("security:\n  roles:\n    admin: {routes: ['*']}\n")).hasMessageContaining("built in");
        assertThatThrownBy(() -> read("security:\n  limits:\n    keys: {a: {requests-per-minute: 0}}\n"))
                .hasMessageContaining("security.limits.keys.a").hasMessageContaining("at least 1");
        assertThatThrownBy(() -> read("security:\n  tls: {certificate: c.pem}\n")).hasMessageContaining("private-key");
    }
}
