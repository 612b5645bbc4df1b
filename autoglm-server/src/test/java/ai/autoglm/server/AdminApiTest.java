package ai.autoglm.server;

import ai.autoglm.server.security.Role;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API over plain HTTP against the real server with the gateway on: statuses written out by hand, the key
 * store and the audit files read back from disk (not through the API under test), the chain check's verdict on a
 * record edited on disk.
 */
class AdminApiTest {
    @TempDir
    static Path dir;
    static SecuredServer s;
    static String admin;
    static String reader;
    static final String CHAT = "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}";

    @BeforeAll
    static void start() {
        s = new SecuredServer(dir, sec -> sec);
        admin = s.keys.create("root", "admin", List.of(), null).secret();
        reader = s.keys.create("grafana", "reader", List.of(), null).secret();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static HttpResponse<String> call(String method, String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + path)).timeout(Duration.ofSeconds(60));
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        try {
            return s.http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> auditRecords() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(s.auditDir().resolve("audit.jsonl"))) out.add(TestServer.JSON.readTree(line));
        return out;
    }

    @Test
    void everyAdminRouteIsInTheAdminGroupAndRefusedToAReader() {
        String[][] routes = {
                {"GET", "/admin/keys", null}, {"POST", "/admin/keys", "{\"name\":\"x\",\"role\":\"user\"}"}, {"DELETE", "/admin/keys/root", null},
                {"GET", "/admin/audit", null}, {"GET", "/admin/audit/verify", null}, {"GET", "/admin/models", null},
                {"POST", "/admin/models/zh/load", "{}"}, {"POST", "/admin/models/zh/unload", "{}"},
                {"GET", "/admin/reports", null}, {"GET", "/admin/reports/x", null}};
        for (String[] r : routes) {
            HttpResponse<String> res = call(r[0], r[1], r[2], reader);
            assertThat(res.statusCode()).as(r[0] + " " + r[1]).isEqualTo(403);
            assertThat(TestServer.json(res).get("error").get("code").asText()).isEqualTo("permission_denied");
            assertThat(call(r[0], r[1], r[2], null).statusCode()).as("no key: " + r[1]).isEqualTo(401);
        }
        // the root key is still there: the reader's DELETE did nothing
        assertThat(s.keys.list()).anyMatch(k -> k.name().equals("root") && k.revoked() == null);
        for (String route : new String[]{"/admin/keys/{name}", "/admin/audit", "/admin/audit/verify", "/admin/models",
                "/admin/models/{id}/load", "/admin/models/{id}/unload", "/admin/reports", "/admin/reports/{id}"}) {
            assertThat(Role.ADMIN.allowsRoute(route)).isTrue();
            assertThat(new Role("ops", java.util.Set.of("admin"), java.util.Set.of("*")).allowsRoute(route)).as(route).isTrue();
            assertThat(Role.USER.allowsRoute(route) || Role.READER.allowsRoute(route)).isFalse();
        }
    }

    @Test
    void keyCreatedThroughTheApiWorksOnceAndIsRefusedAfterRevoke() throws IOException {
        HttpResponse<String> created = call("POST", "/admin/keys", "{\"name\":\"ci\",\"role\":\"user\",\"models\":[\"zh\"]}", admin);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode c = TestServer.json(created);
        String secret = c.get("secret").asText();
        assertThat(secret).startsWith("agk_");
        assertThat(c.get("role").asText()).isEqualTo("user");
        // the key store (the file autoglm keys reads) holds it, hashed
        assertThat(s.keys.list()).anyMatch(k -> k.name().equals("ci") && k.models().equals(List.of("zh")));
        assertThat(Files.readString(s.home.resolve("keys.json"))).doesNotContain(secret.substring(4));
        // shown once: the list never has it
        assertThat(call("GET", "/admin/keys", null, admin).body()).contains("\"ci\"").doesNotContain(secret.substring(4));

        assertThat(s.send("/v1/chat/completions", CHAT, secret).statusCode()).isEqualTo(200);
        assertThat(s.send("/admin/keys", null, secret).statusCode()).isEqualTo(403);

        assertThat(call("POST", "/admin/keys", "{\"name\":\"ci\",\"role\":\"user\"}", admin).statusCode()).isEqualTo(400); // exists
        assertThat(call("POST", "/admin/keys", "{\"name\":\"x y\",\"role\":\"user\"}", admin).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/admin/keys", "{\"name\":\"z\",\"role\":\"superuser\"}", admin).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/admin/keys", "{\"role\":\"user\"}", admin).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/admin/keys", "{\"name\":\"z\",\"role\":\"user\",\"expires\":\"tomorrow\"}", admin).statusCode()).isEqualTo(400);

        HttpResponse<String> revoked = call("DELETE", "/admin/keys/ci", null, admin);
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
        assertThat(TestServer.json(revoked).get("state").asText()).isEqualTo("revoked");
        assertThat(s.send("/v1/chat/completions", CHAT, secret).statusCode()).isEqualTo(401);
        assertThat(call("DELETE", "/admin/keys/ci", null, admin).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/admin/keys/nobody", null, admin).statusCode()).isEqualTo(404);

        // each admin action has its audit record, naming the admin key and what it changed
        List<JsonNode> records = auditRecords();
        assertThat(records).anyMatch(r -> r.path("route").asText().equals("/admin/keys") && r.path("status").asInt() == 201
                && r.path("key").asText().equals("root") && r.path("action").asText().equals("create key ci (user)"));
        assertThat(records).anyMatch(r -> r.path("route").asText().equals("/admin/keys/{name}") && r.path("status").asInt() == 200
                && r.path("action").asText().equals("revoke key ci"));
        assertThat(records).anyMatch(r -> r.path("route").asText().equals("/admin/keys/{name}") && r.path("status").asInt() == 404);
        for (JsonNode r : records) assertThat(r.toString()).doesNotContain(secret.substring(4));
    }

    @Test
    void auditListingFiltersAndVerifyNamesAnEditedRecord() throws IOException {
        assertThat(s.send("/v1/chat/completions", CHAT, admin).statusCode()).isEqualTo(200);
        assertThat(s.send("/admin/keys", null, reader).statusCode()).isEqualTo(403);
        Instant before = Instant.now().minusSeconds(3600);

        JsonNode refused = TestServer.json(call("GET", "/admin/audit?status=403&key=grafana", null, admin));
        assertThat(refused.get("data").size()).isPositive();
        for (JsonNode r : refused.get("data")) {
            assertThat(r.get("status").asInt()).isEqualTo(403);
            assertThat(r.get("key").asText()).isEqualTo("grafana");
        }
        JsonNode zh = TestServer.json(call("GET", "/admin/audit?model=zh&status=2xx&since=" + before, null, admin));
        assertThat(zh.get("data").size()).isPositive();
        for (JsonNode r : zh.get("data")) assertThat(r.get("model").asText()).isEqualTo("zh");
        assertThat(TestServer.json(call("GET", "/admin/audit?until=" + before, null, admin)).get("data").size()).isZero();
        JsonNode two = TestServer.json(call("GET", "/admin/audit?limit=2", null, admin));
        assertThat(two.get("data").size()).isEqualTo(2);
        assertThat(two.get("data").get(0).get("seq").asLong()).isGreaterThan(two.get("data").get(1).get("seq").asLong()); // newest first
        assertThat(call("GET", "/admin/audit?status=abc", null, admin).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/admin/audit?since=yesterday", null, admin).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/admin/audit?limit=0", null, admin).statusCode()).isEqualTo(400);

        JsonNode ok = TestServer.json(call("GET", "/admin/audit/verify", null, admin));
        assertThat(ok.get("ok").asBoolean()).as(ok.toString()).isTrue();
        assertThat(ok.get("records").asLong()).isPositive();

        // edit one record on disk: its content no longer matches the hash the next record holds
        Path live = s.auditDir().resolve("audit.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(live));
        int victim = 1;
        String raw = lines.get(victim);
        JsonNode original = TestServer.JSON.readTree(raw);
        lines.set(victim, lines.get(victim).replace("\"status\":" + original.get("status").asInt(), "\"status\":299"));
        assertThat(lines.get(victim)).isNotEqualTo(raw);
        Files.write(live, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));

        JsonNode broken = TestServer.json(call("GET", "/admin/audit/verify", null, admin));
        assertThat(broken.get("ok").asBoolean()).isFalse();
        JsonNode p = broken.get("problem");
        assertThat(p.get("kind").asText()).isEqualTo("edited");
        assertThat(p.get("seq").asLong()).isEqualTo(original.get("seq").asLong());
        assertThat(p.get("line").asInt()).isEqualTo(victim + 1);
        assertThat(p.get("file").asText()).isEqualTo("audit.jsonl");
        assertThat(p.get("record").asText()).contains("\"status\":299");
        assertThat(broken.toString()).doesNotContain(s.home.toString()); // no server directories in the answer
        // put it back: the other tests' checks see a whole chain
        List<String> now = new ArrayList<>(Files.readAllLines(live));
        now.set(victim, raw);
        Files.write(live, (String.join("\n", now) + "\n").getBytes(StandardCharsets.UTF_8));
        assertThat(TestServer.json(call("GET", "/admin/audit/verify", null, admin)).get("ok").asBoolean()).isTrue();
    }

    @Test
    void modelsShowSettingsAndEstimateAndLoadAndUnload() {
        JsonNode list = TestServer.json(call("GET", "/admin/models", null, admin));
        assertThat(list.get("data")).hasSize(2);
        JsonNode zh = list.get("data").get(0);
        assertThat(zh.get("id").asText()).isEqualTo("zh");
        assertThat(zh.get("kind").asText()).isEqualTo("generative");
        assertThat(zh.get("slots").asInt()).isEqualTo(1);
        assertThat(zh.get("context").asInt()).isEqualTo(64);
        assertThat(zh.get("keep_alive").asText()).isEqualTo("forever");
        assertThat(zh.get("memory_estimate").get("total_bytes").asLong()).isPositive();
        assertThat(zh.get("memory_estimate").get("weight_bytes").asLong()).isPositive();

        HttpResponse<String> loaded = call("POST", "/admin/models/tools/load", "{\"keep_alive\":\"15m\"}", admin);
        assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
        assertThat(s.server.registry().isLoaded("tools")).isTrue();
        JsonNode tools = TestServer.json(call("GET", "/admin/models", null, admin)).get("data").get(1);
        assertThat(tools.get("loaded").asBoolean()).isTrue();
        assertThat(tools.get("keep_alive").asText()).isEqualTo("900s");
        assertThat(tools.get("memory_in_use_bytes").asLong()).isPositive();

        HttpResponse<String> unloaded = call("POST", "/admin/models/tools/unload", "{}", admin);
        assertThat(unloaded.statusCode()).isEqualTo(200);
        assertThat(TestServer.json(unloaded).get("was_loaded").asBoolean()).isTrue();
        assertThat(s.server.registry().isLoaded("tools")).isFalse();
        assertThat(call("POST", "/admin/models/nope/load", "{}", admin).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/admin/models/tools/load", "{\"keep_alive\":\"soon\"}", admin).statusCode()).isEqualTo(400);
        assertThat(s.server.registry().keepAlive("tools")).isEqualTo(Duration.ofMinutes(15)); // the bad value changed nothing
    }

    @Test
    void compressReportsInTheDataDirectoryAreListedWithASummary() throws IOException {
        Path reportDir = Files.createDirectories(s.home.resolve("reports/qwen-4g"));
        Files.writeString(reportDir.resolve("report.json"), """
                {"model":"qwen.gguf","search":"greedy","context":512,"budget_mb":4096.0,
                 "trials":[{"trial":0,"choices":{"default":"q8_0"},"memory_mb":600.5,"mean_kld":0.01,"top1":0.97,"feasible":true},
                           {"trial":1,"choices":{"default":"q4_k"},"memory_mb":400.0,"mean_kld":0.05,"top1":0.91,"feasible":true}],
                 "pareto_front":[0,1],"chosen":1}""");
        JsonNode list = TestServer.json(call("GET", "/admin/reports", null, admin));
        JsonNode r = null;
        for (JsonNode x : list.get("data")) if (x.get("id").asText().equals("reports/qwen-4g")) r = x;
        assertThat(r).as(list.toString()).isNotNull();
        assertThat(r.get("summary").get("model").asText()).isEqualTo("qwen.gguf");
        assertThat(r.get("summary").get("trials").asInt()).isEqualTo(2);
        assertThat(r.get("summary").get("pick").get("memory_mb").asDouble()).isEqualTo(400.0);
        HttpResponse<String> one = call("GET", r.get("href").asText(), null, admin);
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(TestServer.json(one).get("pareto_front")).hasSize(2);
        assertThat(call("GET", "/admin/reports/..~keys.json", null, admin).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/admin/reports/reports~nothing", null, admin).statusCode()).isEqualTo(404);
    }
}
