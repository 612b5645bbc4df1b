package ai.autoglm.server;

import ai.autoglm.server.gateway.AuditVerifier;
import ai.autoglm.server.gateway.SecurityConfig;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail through the real server: one record per request, chained (checked here with the JDK's SHA-256,
 * independently of the verifier), on disk before the client has the answer, across size rotations, under 16
 * concurrent clients.
 */
class GatewayAuditTest {
    @TempDir
    static Path dir;
    static SecuredServer s;
    static String key;

    @BeforeAll
    static void start() {
        s = new SecuredServer(dir, sec -> sec.withAudit(new SecurityConfig.Audit(true, "audit", 256 * 1024, false)));
        key = s.keys.create("load", "admin", List.of(), null).secret();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    /** Every record in chain order, read and checked independently: consecutive seqs from 0, each prev = SHA-256 of the line before. */
    static List<JsonNode> chain(Path auditDir) throws Exception {
        List<Path> files;
        try (Stream<Path> l = Files.list(auditDir)) {
            files = new ArrayList<>(l.filter(p -> p.getFileName().toString().matches("audit-\\d+\\.jsonl")).sorted().toList());
        }
        files.add(auditDir.resolve("audit.jsonl"));
        List<JsonNode> out = new ArrayList<>();
        String prev = "0".repeat(64);
        for (Path f : files) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                JsonNode n = TestServer.JSON.readTree(line);
                assertThat(n.get("seq").asLong()).as(f + ": " + line).isEqualTo(out.size());
                assertThat(n.get("prev").asText()).as(f + ": " + line).isEqualTo(prev);
                prev = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(StandardCharsets.UTF_8)));
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void tenThousandRequestsFromSixteenClientsChainWithoutGapsAcrossRotations() throws Exception {
        int before = chain(s.auditDir()).size();
        int total = 10_000;
        AtomicInteger next = new AtomicInteger();
        AtomicInteger unauthorized = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                done.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < total; ) {
                        boolean bad = i % 10 == 0;
                        HttpResponse<String> r = s.send("/v1/models", null, bad ? "agk_wrong" : key);
                        assertThat(r.statusCode()).isEqualTo(bad ? 401 : 200);
                        if (bad) unauthorized.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
        List<JsonNode> records = chain(s.auditDir());
        assertThat(records).hasSize(before + total);
        Set<String> ids = new HashSet<>();
        int denied = 0;
        for (JsonNode r : records.subList(before, records.size())) {
            assertThat(ids.add(r.get("request_id").asText())).isTrue();
            assertThat(r.get("route").asText()).isEqualTo("/v1/models");
            if (r.get("status").asInt() == 401) {
                denied++;
                assertThat(r.get("key").isNull()).isTrue();
            } else {
                assertThat(r.get("key").asText()).isEqualTo("load");
                assertThat(r.get("role").asText()).isEqualTo("admin");
            }
        }
        assertThat(denied).isEqualTo(unauthorized.get());
        try (Stream<Path> l = Files.list(s.auditDir())) {
            assertThat(l.count()).as("rotated files").isGreaterThan(5);
        }
        AuditVerifier.Report report = AuditVerifier.verify(List.of(s.auditDir()));
        assertThat(report.problem()).isNull();
        assertThat(report.records()).isEqualTo(records.size());
    }

    @Test
    void recordIsOnDiskBeforeTheClientHasTheAnswer() throws Exception {
        HttpResponse<String> r = s.send("/v1/chat/completions",
                "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}", key);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode usage = TestServer.json(r).get("usage");
        JsonNode last = lastRecord();
        assertThat(last.get("route").asText()).isEqualTo("/v1/chat/completions");
        assertThat(last.get("model").asText()).isEqualTo("zh");
        assertThat(last.get("prompt_tokens").asInt()).isEqualTo(usage.get("prompt_tokens").asInt());
        assertThat(last.get("completion_tokens").asInt()).isEqualTo(usage.get("completion_tokens").asInt());
        assertThat(last.has("prompt")).as("no text unless the config asks").isFalse();
        assertThat(last.toString()).doesNotContain("\"hi\"");

        // A stream: the record is there when the final [DONE] event arrives, before the response has ended.
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.base() + "/v1/completions")).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"zh\",\"prompt\":\"hi\",\"max_tokens\":4,\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":true}}")).build();
        HttpResponse<java.io.InputStream> stream = s.http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        JsonNode usageChunk = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("data: [DONE]")) {
                    JsonNode rec = lastRecord();
                    assertThat(rec.get("route").asText()).isEqualTo("/v1/completions");
                    assertThat(rec.get("completion_tokens").asInt()).isEqualTo(usageChunk.get("usage").get("completion_tokens").asInt());
                    return;
                }
                if (line.startsWith("data: ")) {
                    JsonNode n = TestServer.JSON.readTree(line.substring(6));
                    if (n.hasNonNull("usage")) usageChunk = n;
                }
            }
        }
        throw new AssertionError("no [DONE] event");
    }

    @Test
    void textIsRecordedOnlyWhenTheConfigAsks() throws Exception {
        try (SecuredServer withText = new SecuredServer(dir.resolve("text"), sec -> sec.withAudit(new SecurityConfig.Audit(true, "audit", 1 << 20, true)))) {
            HttpResponse<String> r = withText.send("/v1/chat/completions",
                    "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"secret plan\"}],\"max_tokens\":3}", null);
            String output = TestServer.json(r).get("choices").get(0).get("message").get("content").asText();
            List<JsonNode> records = chain(withText.auditDir());
            JsonNode rec = records.getLast();
            assertThat(rec.get("prompt").asText()).contains("secret plan");
            assertThat(rec.get("output").asText()).isEqualTo(output);
            assertThat(rec.get("key").isNull()).isTrue(); // no keys: open server, still audited
        }
    }

    static JsonNode lastRecord() throws Exception {
        List<String> lines = Files.readAllLines(s.auditDir().resolve("audit.jsonl"), StandardCharsets.UTF_8);
        return TestServer.JSON.readTree(lines.getLast());
    }
}
