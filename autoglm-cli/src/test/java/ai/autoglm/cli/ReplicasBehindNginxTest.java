package ai.autoglm.cli;

import ai.autoglm.core.testing.ExternalReference;
import ai.autoglm.server.security.KeyStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real {@code autoglm serve} processes (child JVMs on this test's classpath, as the launcher runs them) behind
 * Debian's nginx running {@code deploy/nginx/autoglm.conf} as shipped (only the replica addresses and the listen port
 * swapped), sharing one real {@code redis-server}: the load spreads, a revocation through one replica reaches all,
 * a quota holds across replicas, a SIGKILLed replica fails only its own requests, a SIGTERMed one finishes its
 * streams and leaves the pool, and {@code autoglm audit verify} finds the three chains whole. A second nginx runs
 * {@code deploy/nginx/autoglm-session-affinity.conf} as shipped in front of the same replicas: a conversation's turns
 * stay on one replica and find their prefix in its KV cache.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasBehindNginxTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path MODEL = ROOT.resolve("models/default/model.gguf");
    static final int QUOTA = 5;

    @TempDir
    static Path dir;
    static Process redis, nginx;
    static final Replica[] replicas = new Replica[3];
    static int nginxPort;
    static String userKey, burstKey, victimKey, adminKey;
    static HttpClient http;

    record Replica(String id, int port, Path home, Process process) {
        String base() {
            return "http://127.0.0.1:" + port;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        Path nginxBinary = Path.of("/usr/sbin/nginx");
        String redisBinary = findOnPath("redis-server");
        ExternalReference.require(Files.isExecutable(nginxBinary) && redisBinary != null,
                "nginx and redis-server are needed (apt-get install nginx redis-server; .ci/run installs them): the replica test is skipped");
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int redisPort = freePort();
        redis = new ProcessBuilder(redisBinary, "--port", Integer.toString(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", dir.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        for (int i = 0; ; i++) {
            try (Jedis j = new Jedis("127.0.0.1", redisPort)) {
                if ("PONG".equals(j.ping())) break;
            } catch (RuntimeException notYet) {
                if (i > 200 || !redis.isAlive()) throw new IllegalStateException("redis-server did not start: " + Files.readString(dir.resolve("redis.log")));
                Thread.sleep(50);
            }
        }
        // Keys exist only in replica a's keys file: b and c know them through Redis alone.
        Path homeA = Files.createDirectories(dir.resolve("home-a"));
        KeyStore keys = new KeyStore(homeA.resolve("keys.json"));
        userKey = keys.create("user", "user", List.of(), null).secret();
        burstKey = keys.create("burst", "user", List.of(), null).secret();
        victimKey = keys.create("victim", "user", List.of(), null).secret();
        adminKey = keys.create("ops", "admin", List.of(), null).secret();
        Path config = dir.resolve("autoglm.yaml");
        Files.writeString(config, """
                models:
                  - alias: glm
                    path: %s
                    context: 256
                    slots: 2
                security:
                  limits:
                    keys: {burst: {requests-per-minute: %d}}
                cluster:
                  redis: redis://127.0.0.1:%d
                  shutdown-grace: 60s
                """.formatted(MODEL, QUOTA, redisPort));
        String[] ids = {"a", "b", "c"};
        for (int i = 0; i < 3; i++) {
            Path home = Files.createDirectories(dir.resolve("home-" + ids[i]));
            int port = freePort();
            Process p = new ProcessBuilder(java(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss16m",
                    "-cp", System.getProperty("java.class.path"), AutoglmCli.class.getName(), "serve", "--config", config.toString(),
                    "--replica-id", ids[i], "--home", home.toString(), "--port", Integer.toString(port))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("replica-" + ids[i] + ".log").toFile()).start();
            replicas[i] = new Replica(ids[i], port, home, p);
        }
        // Ready when /health/ready says so (it loads the model): readiness, not a timing assertion.
        for (Replica r : replicas) awaitStatus(r, r.base() + "/health/ready", 200, 120);

        nginxPort = freePort();
        Path conf = renderNginx(ROOT.resolve("deploy/nginx/autoglm.conf"), "upstream-" + nginxPort, nginxPort);
        nginx = startNginx(conf, nginxPort);
    }

    /** Debian's nginx on a rendered config, once it answers /health on its port. */
    static Process startNginx(Path conf, int port) throws Exception {
        Path out = dir.resolve(conf.getFileName() + ".out");
        Process p = new ProcessBuilder("/usr/sbin/nginx", "-p", dir.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        for (int i = 0; ; i++) {
            try {
                if (get("http://127.0.0.1:" + port + "/health", null).statusCode() == 200) return p;
            } catch (IOException notYet) {
                if (i > 100 || !p.isAlive()) throw new IllegalStateException("nginx did not start: " + Files.readString(out));
                Thread.sleep(50);
            }
        }
    }

    /** The shipped config with the loopback replicas and port; the main nginx.conf keeps everything in the temp dir. */
    static Path renderNginx(Path shipped, String name, int listenPort) throws IOException {
        String text = Files.readString(shipped);
        Matcher m = Pattern.compile("(?m)^    server \\S+:\\d+( [^;]*);\\n").matcher(text);
        assertThat(m.find()).as("the shipped config lists replicas as 'server host:port params;'").isTrue();
        String params = m.group(1);
        StringBuilder servers = new StringBuilder();
        for (Replica r : replicas) servers.append("    server 127.0.0.1:").append(r.port).append(params).append(";\n");
        text = text.replaceAll("(?m)^    server \\S+:\\d+ [^;]*;\\n", "");
        text = text.replaceFirst("(?m)^(upstream autoglm \\{\\n)", "$1" + Matcher.quoteReplacement(servers.toString()));
        text = text.replaceFirst("(?m)^    listen \\d+;", "    listen 127.0.0.1:" + listenPort + ";");
        Path site = dir.resolve(name + ".conf");
        Files.writeString(site, text);
        Path main = dir.resolve(name + "-nginx.conf");
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(main, (System.getProperty("user.name").equals("root") ? "user root;\n" : "") + """
                daemon off;
                master_process on;
                worker_processes 1;
                pid %1$s/%3$s.pid;
                error_log %1$s/%3$s-error.log warn;
                events { worker_connections 256; }
                http {
                    access_log %1$s/%3$s-access.log;
                    client_body_temp_path %1$s/client_body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    include %2$s;
                }
                """.formatted(dir, site, name));
        return main;
    }

    @AfterAll
    static void stop() {
        if (nginx != null) nginx.destroy();
        for (Replica r : replicas) if (r != null) r.process.destroyForcibly();
        if (redis != null) redis.destroy();
    }

    @Test
    @Order(1)
    void boundedLoadSpreadsAcrossReplicas() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 16; i++) all.add(http.sendAsync(chat(userKey, 24, false, "load " + i), HttpResponse.BodyHandlers.ofString()));
        Set<String> upstreams = new HashSet<>();
        for (var f : all) {
            HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isNotEmpty();
            upstreams.add(upstream(r));
        }
        assertThat(upstreams).as("least_conn spreads 16 concurrent answers").hasSize(3);
    }

    @Test
    @Order(2)
    void aQuotaHoldsAcrossReplicas() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 12; i++) burst.add(http.sendAsync(request("/v1/models", burstKey).GET().build(), HttpResponse.BodyHandlers.ofString()));
        int ok = 0, limited = 0;
        Set<String> upstreams = new HashSet<>();
        for (var f : burst) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            upstreams.add(upstream(r));
            if (r.statusCode() == 200) ok++;
            else {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
                assertThat(r.headers().firstValue("Retry-After")).as("nginx passes Retry-After through").isPresent();
                limited++;
            }
        }
        assertThat(upstreams).as("the burst reached several replicas").hasSizeGreaterThan(1);
        assertThat(ok).as("exactly the key's requests per minute, whichever replica served them").isEqualTo(QUOTA);
        assertThat(limited).isEqualTo(12 - QUOTA);
    }

    @Test
    @Order(3)
    void aRevocationThroughOneReplicaReachesAllWithinASecond() throws Exception {
        for (Replica r : replicas) assertThat(get(r.base() + "/v1/models", victimKey).statusCode()).isEqualTo(200);
        HttpResponse<String> revoked = http.send(HttpRequest.newBuilder(URI.create(replicas[1].base() + "/admin/keys/victim/revoke"))
                .header("Authorization", "Bearer " + adminKey).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
        long at = System.nanoTime();
        Set<String> refused = new HashSet<>();
        while (refused.size() < 3 && System.nanoTime() - at < TimeUnit.SECONDS.toNanos(5)) {
            for (Replica r : replicas) {
                if (!refused.contains(r.id) && get(r.base() + "/v1/models", victimKey).statusCode() == 401) refused.add(r.id);
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - at);
        assertThat(refused).as("refused by every replica").containsExactlyInAnyOrder("a", "b", "c");
        assertThat(ms).as("the issue's bound: every replica refuses a revoked key within 1 s").isLessThan(1000);
        assertThat(get("http://127.0.0.1:" + nginxPort + "/v1/models", userKey).statusCode()).as("other keys still work").isEqualTo(200);
    }

    /**
     * {@code deploy/nginx/autoglm-session-affinity.conf} as shipped, in front of the same three replicas: every turn of
     * a conversation (one {@code X-Session-Id}, the history growing turn by turn) is answered by the same replica, and
     * from the second turn on that replica serves the earlier turns from its KV cache ({@code cached_tokens} covers
     * the previous turn's whole prompt); different sessions spread over the replicas. The conversations run one after
     * another so that no other conversation can take the slot in between: the cache hit is then the hash's doing.
     */
    @Test
    @Order(4)
    void theSessionAffinityVariantKeepsAConversationOnOneReplicaAndItsPrefixCache() throws Exception {
        int port = freePort();
        Process affinity = startNginx(renderNginx(ROOT.resolve("deploy/nginx/autoglm-session-affinity.conf"), "affinity-" + port, port), port);
        try {
            Set<String> used = new HashSet<>();
            for (int session = 0; session < 12; session++) {
                String id = "conversation-" + session;
                var messages = JSON.createArrayNode();
                String upstream = null;
                int previousPrompt = 0;
                for (int turn = 0; turn < 3; turn++) {
                    messages.add(JSON.createObjectNode().put("role", "user").put("content", "Session " + session + ", question " + turn + ": tell me more."));
                    String body = JSON.createObjectNode().put("model", "glm").put("max_tokens", 6).put("temperature", 0).put("ignore_eos", true)
                            .set("messages", messages).toString();
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                            .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + userKey).header("Content-Type", "application/json")
                            .header("X-Session-Id", id).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    JsonNode answer = JSON.readTree(r.body());
                    if (upstream == null) upstream = upstream(r);
                    assertThat(upstream(r)).as("turn %d of %s goes where its first turn went", turn, id).isEqualTo(upstream);
                    int prompt = answer.at("/usage/prompt_tokens").asInt();
                    int cached = answer.at("/usage/prompt_tokens_details/cached_tokens").asInt();
                    if (turn > 0) {
                        assertThat(cached).as("turn %d of %s reuses the replica's cache of the earlier turns: %s", turn, id, answer.get("usage"))
                                .isGreaterThanOrEqualTo(previousPrompt).isLessThan(prompt);
                    }
                    previousPrompt = prompt;
                    messages.add(JSON.createObjectNode().put("role", "assistant").put("content", answer.at("/choices/0/message/content").asText()));
                }
                used.add(upstream);
            }
            assertThat(used).as("12 sessions hashed over 3 replicas (ketama ring of the replicas' addresses)").hasSizeGreaterThan(1);
            assertThat(used).allSatisfy(u -> assertThat(u).startsWith("127.0.0.1:"));
        } finally {
            affinity.destroy();
            affinity.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(5)
    void aKilledReplicaFailsOnlyItsOwnRequests() throws Exception {
        Replica victim = replicas[2];
        List<Stream> streams = startStreams(6, 160);
        Set<Stream> onVictim = streams.stream().filter(s -> s.upstream.endsWith(":" + victim.port)).collect(Collectors.toSet());
        victim.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL
        for (Stream s : streams) {
            List<String> events = s.done.get(120, TimeUnit.SECONDS);
            if (onVictim.contains(s)) assertThat(events).as("cut off with its replica").doesNotContain("[DONE]");
            else assertThat(events).as("a stream on a surviving replica").endsWith("[DONE]");
        }
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = http.send(chat(userKey, 4, false, "after kill " + i), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("no 5xx once a replica is gone: " + r.body()).isEqualTo(200);
            assertThat(upstream(r)).as("answered by a live replica").doesNotEndWith("127.0.0.1:" + victim.port);
        }
    }

    @Test
    @Order(6)
    void aTerminatedReplicaFinishesItsStreamsAndLeavesThePool() throws Exception {
        Replica leaving = replicas[1];
        List<Stream> streams = startStreams(4, 80);
        List<Stream> onLeaving = streams.stream().filter(s -> s.upstream.endsWith(":" + leaving.port)).toList();
        assertThat(onLeaving).as("least_conn gave the replica some of the streams").isNotEmpty();
        leaving.process.destroy(); // SIGTERM
        for (Stream s : streams) {
            List<String> events = s.done.get(120, TimeUnit.SECONDS);
            assertThat(events).as("every stream completes, also those on the draining replica").endsWith("[DONE]");
            JsonNode last = JSON.readTree(events.get(events.size() - 2));
            assertThat(last.at("/choices/0/finish_reason").asText()).as("ended within the grace period").isIn("stop", "length");
        }
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = http.send(chat(userKey, 4, false, "after term " + i), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(upstream(r)).as("nginx no longer sends the draining replica work").doesNotEndWith("127.0.0.1:" + leaving.port);
        }
        assertThat(leaving.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(leaving.process.exitValue()).as("drained and exited cleanly").isZero();
    }

    @Test
    @Order(7)
    void auditVerifyFindsEveryChainWhole() throws Exception {
        Replica a = replicas[0];
        a.process.destroy();
        assertThat(a.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(a.process.exitValue()).isZero();
        CliRunner.Result r = CliRunner.run("audit", "verify", a.home.resolve("audit").toString(), replicas[1].home.resolve("audit").toString(),
                replicas[2].home.resolve("audit").toString());
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("chain a: ok", "chain b: ok", "chain c: ok", "ok: 3 chains");
        for (Replica x : replicas) assertThat(x.home.resolve("audit").resolve(x.id).resolve("audit.jsonl")).exists();
    }

    /** A streamed chat through nginx, once its first event is in. */
    record Stream(String upstream, CompletableFuture<List<String>> done) {
    }

    static List<Stream> startStreams(int n, int maxTokens) throws Exception {
        List<CompletableFuture<Stream>> started = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Stream> first = new CompletableFuture<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            http.sendAsync(chat(userKey, maxTokens, true, "stream " + i), HttpResponse.BodyHandlers.ofLines()).thenAccept(r -> {
                CountDownLatch once = new CountDownLatch(1);
                List<String> events = new ArrayList<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        r.body().forEach(line -> {
                            if (line.startsWith("data: ")) {
                                events.add(line.substring(6));
                                if (once.getCount() > 0) {
                                    once.countDown();
                                    first.complete(new Stream(upstream(r), done));
                                }
                            }
                        });
                    } catch (RuntimeException cut) {
                        // the connection broke: what arrived is the answer
                    }
                    if (once.getCount() > 0) first.completeExceptionally(new IllegalStateException("no event; status " + r.statusCode()));
                    done.complete(events);
                });
            }).exceptionally(e -> {
                first.completeExceptionally(e);
                return null;
            });
            started.add(first);
        }
        List<Stream> out = new ArrayList<>();
        for (var f : started) out.add(f.get(120, TimeUnit.SECONDS));
        return out;
    }

    static HttpRequest chat(String key, int maxTokens, boolean stream, String text) {
        String body = JSON.createObjectNode().put("model", "glm").put("max_tokens", maxTokens).put("temperature", 0).put("ignore_eos", true)
                .put("stream", stream).set("messages", JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user").put("content", text)))
                .toString();
        return request("/v1/chat/completions", key).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nginxPort + path)).timeout(Duration.ofSeconds(120));
        return key == null ? b : b.header("Authorization", "Bearer " + key);
    }

    static String upstream(HttpResponse<?> r) {
        return r.headers().firstValue("X-Autoglm-Upstream").orElse("?");
    }

    static HttpResponse<String> get(String url, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void awaitStatus(Replica r, String url, int status, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                if (get(url, null).statusCode() == status) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!r.process.isAlive() || System.nanoTime() > end) {
                throw new IllegalStateException("replica " + r.id + " not ready: " + Files.readString(dir.resolve("replica-" + r.id + ".log")));
            }
            Thread.sleep(100);
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String findOnPath(String name) {
        for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(p, name))) return Path.of(p, name).toString();
        }
        return Files.isExecutable(Path.of("/usr/sbin", name)) ? "/usr/sbin/" + name : null;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
