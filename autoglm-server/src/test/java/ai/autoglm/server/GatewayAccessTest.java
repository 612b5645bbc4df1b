package ai.autoglm.server;

import ai.autoglm.server.gateway.Role;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every route × role × key state through the real server. The expected statuses are written out by hand below
 * (the specification), not derived from the gateway's role tables.
 */
class GatewayAccessTest {
    @TempDir
    static Path dir;
    static SecuredServer s;
    static final Map<String, String> KEYS = new LinkedHashMap<>();

    record Route(String name, String path, String body) {
    }

    static final String CHAT = "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}";
    static final List<Route> ROUTES = List.of(
            new Route("health", "/health", null),
            new Route("models", "/v1/models", null),
            new Route("model zh", "/v1/models/zh", null),
            new Route("metrics", "/metrics", null),
            new Route("chat zh", "/v1/chat/completions", CHAT),
            new Route("completions zh", "/v1/completions", "{\"model\":\"zh\",\"prompt\":\"hi\",\"max_tokens\":2}"),
            new Route("tokenize tools", "/tokenize", "{\"model\":\"tools\",\"prompt\":\"hi\"}"),
            new Route("detokenize zh", "/detokenize", "{\"model\":\"zh\",\"tokens\":[104,105]}"),
            new Route("admin keys", "/admin/keys", null),
            new Route("unknown", "/v1/nothing", null));

    /** Expected status per valid key's role, in ROUTES order. */
    static final Map<String, int[]> VALID = Map.of(
            //                   health models zh  metrics chat compl tok  detok admin unknown
            "admin", new int[]{200, 200, 200, 200, 200, 200, 200, 200, 200, 404},
            "user", new int[]{200, 200, 200, 403, 200, 200, 403, 200, 403, 404},      // key limited to model zh
            "reader", new int[]{200, 200, 200, 200, 403, 403, 403, 403, 403, 404},
            "analyst", new int[]{200, 200, 403, 403, 403, 403, 200, 403, 403, 404});  // /tokenize + models, model tools only

    @BeforeAll
    static void start() {
        s = new SecuredServer(dir, sec -> sec.withRoles(List.of(new Role("analyst", Set.of("/tokenize", "models"), Set.of("tools")))));
        KEYS.put("admin", s.keys.create("root", "admin", List.of(), null).secret());
        KEYS.put("user", s.keys.create("alice", "user", List.of("zh"), null).secret());
        KEYS.put("reader", s.keys.create("grafana", "reader", List.of(), null).secret());
        KEYS.put("analyst", s.keys.create("ana", "analyst", List.of(), null).secret());
        String revoked = s.keys.create("bob", "user", List.of(), null).secret();
        s.keys.revoke("bob");
        KEYS.put("revoked", revoked);
        KEYS.put("expired", s.keys.create("old", "admin", List.of(), Instant.now().minus(1, ChronoUnit.HOURS)).secret());
        String real = KEYS.get("admin");
        // a wrong key: the admin's with its last character changed
        KEYS.put("wrong", real.substring(0, real.length() - 1) + (real.endsWith("A") ? "B" : "A"));
        KEYS.put("none", null);
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    @Test
    void everyRouteRoleAndKeyState() {
        List<String> failures = new ArrayList<>();
        String unauthorizedBody = null;
        for (Map.Entry<String, String> k : KEYS.entrySet()) {
            for (int i = 0; i < ROUTES.size(); i++) {
                Route r = ROUTES.get(i);
                int expected = VALID.containsKey(k.getKey()) ? VALID.get(k.getKey())[i] : r.name.equals("health") ? 200 : 401;
                HttpResponse<String> res = s.send(r.path, r.body, k.getValue());
                if (res.statusCode() != expected) failures.add(k.getKey() + " " + r.name + ": " + res.statusCode() + " (want " + expected + ") " + res.body());
                if (expected >= 400) {
                    JsonNode e = TestServer.json(res).get("error");
                    assertThat(e).as(res.body()).isNotNull();
                    assertThat(e.has("message") && e.has("type") && e.has("param") && e.has("code")).isTrue();
                }
                if (expected == 401) {
                    // one answer for missing, wrong, revoked and expired keys: nothing says which it was
                    if (unauthorizedBody == null) unauthorizedBody = res.body();
                    assertThat(res.body()).isEqualTo(unauthorizedBody);
                    assertThat(res.headers().firstValue("www-authenticate")).contains("Bearer");
                    if (k.getValue() != null) assertThat(res.body()).doesNotContain(k.getValue().substring(4, 12));
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void modelListShowsOnlyWhatTheKeyMayUse() {
        JsonNode all = TestServer.json(s.send("/v1/models", null, KEYS.get("admin")));
        JsonNode mine = TestServer.json(s.send("/v1/models", null, KEYS.get("user")));
        assertThat(all.get("data")).hasSize(2);
        assertThat(mine.get("data")).hasSize(1);
        assertThat(mine.get("data").get(0).get("id").asText()).isEqualTo("zh");
        // a model the key may not use is refused before it is looked up or loaded
        HttpResponse<String> r = s.send("/v1/chat/completions", CHAT.replace("\"zh\"", "\"tools\""), KEYS.get("user"));
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(TestServer.json(r).get("error").get("code").asText()).isEqualTo("permission_denied");
    }

    @Test
    void adminKeyListHasNoSecrets() {
        String body = s.send("/admin/keys", null, KEYS.get("admin")).body();
        assertThat(body).contains("\"alice\"").contains("\"revoked\"").contains("\"expired\"");
        for (String secret : KEYS.values()) if (secret != null) assertThat(body).doesNotContain(secret.substring(4, 16));
        assertThat(body).doesNotContain("hash").doesNotContain("salt");
    }

    @Test
    void keysFileAndDataDirectoryAreOwnerOnlyAndHoldNoKey() throws Exception {
        Path keysFile = s.home.resolve("keys.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.home))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keysFile))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.auditDir().resolve("audit.jsonl")))).isEqualTo("rw-------");
        String stored = Files.readString(keysFile);
        for (String secret : KEYS.values()) if (secret != null) assertThat(stored).doesNotContain(secret.substring(4, 16));
        // the stored hash is SHA-256(salt || key), checked with the JDK's digest here
        JsonNode alice = null;
        for (JsonNode k : TestServer.JSON.readTree(stored).get("keys")) if (k.get("name").asText().equals("alice")) alice = k;
        var md = java.security.MessageDigest.getInstance("SHA-256");
        md.update(java.util.HexFormat.of().parseHex(alice.get("salt").asText()));
        String expected = java.util.HexFormat.of().formatHex(md.digest(KEYS.get("user").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(alice.get("hash").asText()).isEqualTo(expected);
    }
}
