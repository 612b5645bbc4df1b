package ai.autoglm.server;

import ai.autoglm.server.security.Role;
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

    /**
     * Issue 15 item 4: once the server has seen keys, a keys file that disappears, becomes empty or is damaged while it
     * runs fails closed (401 for a key that was valid and for no key at all), logged at SEVERE; never an open server.
     */
    @Test
    void keysFileRemovedOrEmptiedWhileServingFailsClosed() throws Exception {
        List<java.util.logging.LogRecord> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger ringLog = java.util.logging.Logger.getLogger(ai.autoglm.server.gateway.KeyRing.class.getName());
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        ringLog.addHandler(h);
        try (SecuredServer own = new SecuredServer(dir.resolve("removed"), sec -> sec)) {
            String secret = own.keys.create("only", "admin", List.of(), null).secret();
            assertThat(own.send("/v1/models", null, secret).statusCode()).isEqualTo(200);
            assertThat(own.send("/v1/models", null, null).statusCode()).isEqualTo(401);
            Path file = own.keys.file();
            byte[] good = Files.readAllBytes(file);
            Map<String, byte[]> damages = new LinkedHashMap<>();
            damages.put("missing", null);
            damages.put("empty", new byte[0]);
            damages.put("no keys", "{\"version\":1,\"keys\":[]}".getBytes());
            damages.put("garbage", "{\"version\":1,\"keys\":[".getBytes());
            for (Map.Entry<String, byte[]> d : damages.entrySet()) {
                logged.clear();
                Files.deleteIfExists(file);
                if (d.getValue() != null) Files.write(file, d.getValue());
                for (String k : java.util.Arrays.asList(secret, null)) {
                    HttpResponse<String> r = own.send("/v1/models", null, k);
                    assertThat(r.statusCode()).as(d.getKey() + (k == null ? ", no key" : ", the old key") + ": " + r.body()).isEqualTo(401);
                    assertThat(own.send("/v1/chat/completions", CHAT, k).statusCode()).as(d.getKey()).isEqualTo(401);
                }
                assertThat(own.send("/health", null, null).statusCode()).isEqualTo(200);
                assertThat(logged).as(d.getKey() + ": logged loudly").anyMatch(r -> r.getLevel() == java.util.logging.Level.SEVERE
                        && r.getMessage().contains("keys file"));
                // restored: the key works again, from the next request
                Files.write(file, good);
                Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5 + damages.size())));
                assertThat(own.send("/v1/models", null, secret).statusCode()).as(d.getKey() + " restored").isEqualTo(200);
            }
        } finally {
            ringLog.removeHandler(h);
        }
    }
}
