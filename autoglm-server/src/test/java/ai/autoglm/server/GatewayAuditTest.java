package ai.autoglm.server;

import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.PiiConfig;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.security.AuditVerifier;
import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.config.SecurityConfig;
import org.junit.jupiter.api.Assumptions;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
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
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
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
        // 1,000 bad keys from one address: no limit on failed authentications here (tested on its own below)
        s = new SecuredServer(dir, sec -> sec.withAudit(new SecurityConfig.Audit(true, "audit", 256 * 1024, false))
                .withLimits(new SecurityConfig.Limits(Map.of(), Map.of(), 0)));
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

    static final String CHAT = "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}";
    static final String CHAT_STREAM = "{\"model\":\"zh\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}";

    /** The data payloads of a streamed answer, in order ({@code [DONE]} included when it came). */
    static List<String> events(SecuredServer srv, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(srv.base() + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<Stream<String>> r = srv.http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    }

    /** Mounts a tmpfs of {@code size} on {@code at}; null when mounted, else why not. */
    static String mountTmpfs(Path at, String size) throws Exception {
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", at.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.waitFor() == 0 ? null : "cannot mount a tmpfs (needs root; running as " + System.getProperty("user.name") + "): " + out;
    }

    /**
     * Issue 15 item 3, on a real full file system (a small tmpfs): once the audit trail cannot take a record, a plain
     * request gets 503 {@code audit_unavailable} (not a 400) and a stream ends with that error event instead of
     * {@code [DONE]}; every answer that did go out has its record; a write cut short leaves no fragment for the next
     * record to be glued to, so the chain (checked independently) is whole once space is back; the log has one loud
     * line for the outage and one for the recovery, and no stack trace.
     */
    @Test
    void aFullDiskFailsClosedAndTheChainStaysWhole() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("full-disk"));
        String why = mountTmpfs(mnt, "512k");
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) throw new AssertionError("CI must run the full-disk case, but " + why);
            Assumptions.abort("full-disk case skipped: " + why);
        }
        try {
            Path auditDir = mnt.resolve("audit");
            Path filler = mnt.resolve("filler");
            int answered = 0;
            int refused = 0;
            int streamsRefused = 0;
            try (LogCapture logs = new LogCapture();
                 SecuredServer srv = new SecuredServer(dir.resolve("full-disk-server"),
                         sec -> sec.withAudit(new SecurityConfig.Audit(true, auditDir.toString(), 1 << 20, false)))) {
                String k = srv.keys.create("disk", "admin", List.of(), null).secret();
                assertThat(srv.send("/v1/chat/completions", CHAT, k).statusCode()).isEqualTo(200);
                answered++;
                try (OutputStream o = Files.newOutputStream(filler)) {
                    byte[] b = new byte[512];
                    for (; ; ) o.write(b);
                } catch (java.io.IOException full) {
                    // the file system is full now
                }
                for (int i = 0; i < 40; i++) {
                    if (i % 2 == 0) {
                        HttpResponse<String> r = srv.send("/v1/chat/completions", CHAT, k);
                        if (r.statusCode() == 200) {
                            answered++;
                            continue;
                        }
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                        JsonNode err = TestServer.json(r).get("error");
                        assertThat(err.get("type").asText()).isEqualTo("server_error");
                        assertThat(err.get("code").asText()).isEqualTo("audit_unavailable");
                        assertThat(r.headers().firstValue("retry-after")).isPresent();
                        refused++;
                    } else {
                        List<String> ev = events(srv, CHAT_STREAM, k);
                        if (ev.getLast().equals("[DONE]")) {
                            assertThat(ev).noneMatch(e -> e.contains("\"error\""));
                            answered++;
                            continue;
                        }
                        assertThat(ev).doesNotContain("[DONE]");
                        assertThat(TestServer.JSON.readTree(ev.getLast()).get("error").get("code").asText()).isEqualTo("audit_unavailable");
                        streamsRefused++;
                    }
                }
                assertThat(refused).as("plain requests refused on the full disk").isGreaterThan(5);
                assertThat(streamsRefused).as("streams ended with an error on the full disk").isGreaterThan(5);

                Files.delete(filler);
                assertThat(srv.send("/v1/chat/completions", CHAT, k).statusCode()).isEqualTo(200);
                answered++;
                assertThat(events(srv, CHAT_STREAM, k).getLast()).isEqualTo("[DONE]");
                answered++;

                List<JsonNode> records = chain(auditDir); // no torn fragment glued to a later record
                assertThat(records).as("one record per answer that went out, none for a refused one").hasSize(answered);
                assertThat(AuditVerifier.verify(List.of(auditDir)).problem()).isNull();
                List<java.util.logging.LogRecord> loud = logs.atLeast(Level.SEVERE);
                assertThat(loud).as(LogCapture.describe(loud)).hasSize(1);
                assertThat(loud.getFirst().getMessage()).contains("AUDIT TRAIL UNAVAILABLE").contains(auditDir.toString());
                assertThat(logs.withTrace()).as(LogCapture.describe(logs.withTrace())).isEmpty();
                assertThat(logs.records).anyMatch(r -> r.getMessage().contains("writable again"));
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
        }
    }

    /** Reads the metrics with a key. */
    static double metric(HttpClient http, String base, String key, String sample) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(sample + " ")) return Double.parseDouble(line.substring(sample.length() + 1).trim());
        }
        return 0;
    }

    static Socket rawPost(int port, String key, String body) throws Exception {
        Socket sock = new Socket("127.0.0.1", port);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = sock.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
        return sock;
    }

    static JsonNode awaitRecord(Path auditDir, Predicate<JsonNode> which) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode r : chain(auditDir)) if (which.test(r)) return r;
            Thread.sleep(50);
        }
        throw new AssertionError("no such audit record in 30 s");
    }

    /**
     * Issue 15 item 5: a client that leaves mid-stream is audited with outcome {@code cancelled} and the tokens it was
     * sent, which are charged to its key's daily quota (100 here, so its next request is refused); and the
     * {@code cancelled} metric counts every client that left, including one that left while its request waited in
     * the queue (whose job the scheduler never started).
     */
    @Test
    void aClientThatLeavesIsAuditedAsCancelledChargedAndCounted() throws Exception {
        Path zh = ScriptedModel.chinese(dir.resolve("zh-long.gguf"), 8192);
        Path home = dir.resolve("cancel-home");
        SecurityConfig sec = SecurityConfig.defaults(home)
                .withLimits(new SecurityConfig.Limits(Map.of("user", new SecurityConfig.Limit(null, 100L)), Map.of()));
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 16, 4, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("zh", zh, 8192, 1, null, null)), sec);
        KeyStore keys = new KeyStore(home.resolve(SecurityConfig.DEFAULT_KEYS_FILE));
        String user = keys.create("quota", "user", List.of(), null).secret();
        String admin = keys.create("ops", "admin", List.of(), null).secret();
        String cancelled = "autoglm_requests_finished_total{model=\"zh\",outcome=\"cancelled\"}";
        String stream = "{\"model\":\"zh\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        try (AutoglmServer server = AutoglmServer.start(config)) {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            int chunks = 0;
            try (Socket a = rawPost(server.port(), user, stream)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(a.getInputStream(), StandardCharsets.UTF_8));
                for (String line; chunks < 40 && (line = in.readLine()) != null; ) {
                    if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) chunks++;
                }
                a.setSoLinger(true, 0); // leave with a reset, mid-answer
            }
            assertThat(chunks).isEqualTo(40);
            JsonNode rec = awaitRecord(home.resolve("audit"), r -> "quota".equals(r.path("key").asText()));
            assertThat(rec.get("outcome").asText()).isEqualTo("cancelled");
            assertThat(rec.get("prompt_tokens").asInt()).isPositive();
            assertThat(rec.get("completion_tokens").asInt()).as("tokens sent before it left").isGreaterThanOrEqualTo(chunks);
            HttpResponse<String> next = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .header("Authorization", "Bearer " + user).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(next.statusCode()).as("the day's 100 tokens were spent by the cancelled stream: " + next.body()).isEqualTo(429);
            SchedulingTest.waitFor(() -> metricQuietly(http, base, admin, cancelled) == 1);

            // A holds the only slot; B waits in the queue, then leaves without reading anything.
            try (Socket a = rawPost(server.port(), admin, stream)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(a.getInputStream(), StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null && !line.contains("\"content\":\"中"); ) {
                    // headers and the role chunk
                }
                try (Socket b = rawPost(server.port(), admin, "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"y\"}]}")) {
                    SchedulingTest.waitFor(() -> metricQuietly(http, base, admin, "autoglm_queue_depth{model=\"zh\"}") == 1);
                }
                SchedulingTest.waitFor(() -> metricQuietly(http, base, admin, cancelled) == 2);
                a.setSoLinger(true, 0);
            }
            SchedulingTest.waitFor(() -> metricQuietly(http, base, admin, cancelled) == 3);
        }
    }

    static double metricQuietly(java.net.http.HttpClient http, String base, String key, String sample) {
        try {
            return metric(http, base, key, sample);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Issue 15 item 6: with {@code include-text}, the audit keeps what the PII filter let through (the redacted prompt,
     * the redacted answer as the client got it, streamed or not), and nothing of a request the filter rejected.
     */
    @Test
    void auditTextIsWhatThePiiFilterLetThrough() throws Exception {
        Path speaker = PiiFilterServerTest.speaker(dir.resolve("speaker.gguf"), PiiFilterServerTest.PIECES);
        String phone = "13912345678";
        String body = "{\"model\":\"speaker\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"call me on " + phone
                + " or at wang@example.org\"}]";
        for (PiiConfig.Action input : List.of(PiiConfig.Action.REDACT, PiiConfig.Action.REJECT)) {
            Path home = dir.resolve("pii-" + input);
            ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 16, 4, Duration.ofMinutes(2), 256,
                    List.of(new ModelSpec("speaker", speaker, 256, 1, null, null)),
                    GatewayFilters.NONE.withPii(new PiiConfig(input, PiiConfig.Action.REDACT, PiiConfig.BUILT_IN_KINDS, List.of(), List.of())),
                    SecurityConfig.defaults(home).withAudit(new SecurityConfig.Audit(true, "audit", 1 << 20, true)), null);
            try (TestServer c = TestServer.client(AutoglmServer.start(config))) {
                HttpResponse<String> r = c.post("/v1/chat/completions", TestServer.JSON.readTree(body + "}"));
                List<JsonNode> records = chain(home.resolve("audit"));
                JsonNode rec = records.getLast();
                assertThat(rec.toString()).doesNotContain(phone).doesNotContain("wang@example.org")
                        .doesNotContain("13800138000").doesNotContain("li@example.com");
                if (input == PiiConfig.Action.REJECT) {
                    assertThat(r.statusCode()).isEqualTo(400);
                    assertThat(rec.get("prompt").isNull()).as("nothing of a rejected request is kept").isTrue();
                    continue;
                }
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(rec.get("prompt").asText()).contains("call me on [REDACTED:phone]");
                assertThat(rec.get("output").asText()).isEqualTo(TestServer.json(r).get("choices").get(0).get("message").get("content").asText())
                        .isEqualTo(PiiFilterServerTest.REDACTED);

                HttpResponse<String> st = c.post("/v1/chat/completions", TestServer.JSON.readTree(body + ",\"stream\":true}"));
                assertThat(st.body()).contains("[DONE]");
                JsonNode srec = chain(home.resolve("audit")).getLast();
                assertThat(srec.toString()).doesNotContain(phone).doesNotContain("13800138000").doesNotContain("li@example.com");
                assertThat(srec.get("output").asText()).isEqualTo(PiiFilterServerTest.REDACTED);
            }
        }
    }

    /**
     * Issue 15 item 13: failed authentications are limited per client address (5 a minute here): 5 × 401 with
     * records, then 429s with one record for the start of the throttling; a valid key from the same address is not
     * throttled.
     */
    @Test
    void failedAuthenticationsAreLimitedPerAddress() throws Exception {
        try (SecuredServer srv = new SecuredServer(dir.resolve("anon"), sec -> sec.withLimits(new SecurityConfig.Limits(Map.of(), Map.of(), 5)))) {
            String k = srv.keys.create("ok", "admin", List.of(), null).secret();
            int before = chain(srv.auditDir()).size();
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 20; i++) statuses.add(srv.send("/v1/models", null, "agk_guess" + i).statusCode());
            assertThat(statuses.subList(0, 5)).containsOnly(401);
            assertThat(statuses.subList(5, 20)).containsOnly(429);
            HttpResponse<String> throttled = srv.send("/v1/models", null, null);
            assertThat(throttled.headers().firstValue("retry-after")).isPresent();
            assertThat(srv.send("/v1/models", null, k).statusCode()).isEqualTo(200);
            List<JsonNode> added = chain(srv.auditDir()).subList(before, before + 7);
            assertThat(added.stream().map(r -> r.get("status").asInt()).toList()).containsExactly(401, 401, 401, 401, 401, 429, 200);
        }
    }

    /**
     * Issue 15 item 13: retention keeps the newest 2 rotated files, and the anchor lets {@code verify} tell what
     * retention removed from what someone else removed, at either end.
     */
    @Test
    void retentionPrunesOldFilesAndTheAnchorCatchesTruncationAtEitherEnd() throws Exception {
        try (SecuredServer srv = new SecuredServer(dir.resolve("retention"), sec -> sec.withAudit(new SecurityConfig.Audit(true, "audit", 1024, false, 2, 0)))) {
            String k = srv.keys.create("ok", "admin", List.of(), null).secret();
            for (int i = 0; i < 40; i++) assertThat(srv.send("/v1/models", null, k).statusCode()).isEqualTo(200);
            List<Path> rotated;
            try (Stream<Path> l = Files.list(srv.auditDir())) {
                rotated = l.filter(p -> p.getFileName().toString().matches("audit-\\d+\\.jsonl")).sorted().toList();
            }
            assertThat(rotated).hasSize(2);
            AuditVerifier.Report r = AuditVerifier.verify(List.of(srv.auditDir()));
            assertThat(r.problem()).isNull();
            assertThat(r.firstSeq()).as("retention removed the oldest records").isPositive();
            assertThat(r.lastSeq()).isEqualTo(39);

            Path live = srv.auditDir().resolve("audit.jsonl");
            List<String> lines = Files.readAllLines(live);
            Files.write(live, lines.subList(0, lines.size() - 1));
            AuditVerifier.Problem end = AuditVerifier.verify(List.of(srv.auditDir())).problem();
            assertThat(end).isNotNull();
            assertThat(end.kind()).isEqualTo(AuditVerifier.Kind.REMOVED);
            assertThat(end.detail()).contains("missing at the end");
            Files.write(live, lines);

            Files.delete(rotated.getFirst());
            AuditVerifier.Problem start = AuditVerifier.verify(List.of(srv.auditDir())).problem();
            assertThat(start).isNotNull();
            assertThat(start.kind()).isEqualTo(AuditVerifier.Kind.REMOVED);
            assertThat(start.detail()).contains("missing at the start");
        }
    }
}
