package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Continuous batching seen from outside: concurrent streams give exactly their sequential greedy output, a
 * conversation's next turn reuses its cached prefix, a client that disconnects frees its slot, and a full queue
 * answers 429 with Retry-After.
 */
class SchedulingTest {
    @TempDir
    Path dir;

    @Test
    void concurrentStreamsEachEqualTheirSequentialGreedyOutput() throws Exception {
        try (TestServer server = TestServer.start(dir, 3, 16); GreedyReference reference = new GreedyReference(server.llama);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String[] prompts = {"hello", "world", "the hello", "or world", "hello hello hello", "wor", "lo lo", "he"};
            List<Future<String>> answers = new ArrayList<>();
            for (String p : prompts) {
                ObjectNode body = ChatApiTest.chat("llama", p).put("temperature", 0).put("max_tokens", 40).put("stream", true);
                answers.add(pool.submit(() -> {
                    StringBuilder text = new StringBuilder();
                    for (String e : ChatApiTest.events(server.post("/v1/chat/completions", body).body())) {
                        text.append(TestServer.JSON.readTree(e).get("choices").get(0).get("delta").path("content").asText(""));
                    }
                    return text.toString();
                }));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertThat(answers.get(i).get()).as(prompts[i]).isEqualTo(reference.chat(prompts[i], 40, 256));
            }
            assertThat(server.metric("autoglm_requests_finished_total{model=\"llama\",outcome=\"error\"}")).isZero();
        }
    }

    /**
     * Failing requests among running ones: malformed JSON, a prompt longer than the context, a 404, a schema the
     * grammar refuses, and a streaming client that vanishes mid-answer, all while three greedy streams run. Each
     * stream still equals its sequential greedy output and the failures are only their own.
     */
    @Test
    void failingRequestsNeverDisturbTheOthers() throws Exception {
        try (TestServer server = TestServer.start(dir, 4, 16); GreedyReference reference = new GreedyReference(server.llama);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String[] prompts = {"hello world", "the world", "or hello"};
            List<Future<String>> answers = new ArrayList<>();
            for (String p : prompts) {
                ObjectNode body = ChatApiTest.chat("llama", p).put("temperature", 0).put("max_tokens", 60).put("stream", true);
                answers.add(pool.submit(() -> {
                    StringBuilder text = new StringBuilder();
                    for (String e : ChatApiTest.events(server.post("/v1/chat/completions", body).body())) {
                        text.append(TestServer.JSON.readTree(e).get("choices").get(0).get("delta").path("content").asText(""));
                    }
                    return text.toString();
                }));
            }
            ObjectNode schema = ChatApiTest.chat("llama", "x");
            schema.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "p")
                    .putObject("schema").put("type", "string").put("pattern", "^a+$");
            List<Future<Integer>> failures = List.of(
                    pool.submit(() -> server.post("/v1/chat/completions", "{\"model\": \"llama\", \"messages\": [").statusCode()),
                    pool.submit(() -> server.post("/v1/chat/completions", ChatApiTest.chat("llama", "hello ".repeat(300))).statusCode()),
                    pool.submit(() -> server.post("/v1/chat/completions", ChatApiTest.chat("nope", "x")).statusCode()),
                    pool.submit(() -> server.post("/v1/chat/completions", schema).statusCode()));
            try (Socket gone = new Socket("127.0.0.1", server.server.port())) {
                byte[] body = ChatApiTest.chat("llama", "world").put("stream", true).put("max_tokens", 200).toString().getBytes(StandardCharsets.UTF_8);
                gone.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                gone.getOutputStream().write(body);
                gone.getOutputStream().flush();
                new BufferedReader(new InputStreamReader(gone.getInputStream(), StandardCharsets.UTF_8)).readLine();
            } // leaves mid-stream
            assertThat(failures.stream().map(f -> {
                try {
                    return f.get();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).toList()).containsExactly(400, 400, 404, 400);
            for (int i = 0; i < prompts.length; i++) {
                assertThat(answers.get(i).get()).as(prompts[i]).isEqualTo(reference.chat(prompts[i], 60, 256));
            }
            assertThat(server.metric("autoglm_requests_finished_total{model=\"llama\",outcome=\"error\"}")).isZero();
        }
    }

    @Test
    void theNextTurnReusesTheCachedPrefix() {
        try (TestServer server = TestServer.start(dir, 2, 4); GreedyReference reference = new GreedyReference(server.llama)) {
            ObjectNode first = ChatApiTest.chat("llama", "hello world").put("temperature", 0).put("max_tokens", 8);
            JsonNode one = TestServer.json(server.post("/v1/chat/completions", first));
            String answer = one.get("choices").get(0).get("message").get("content").asText();
            ObjectNode second = first.deepCopy();
            second.withArray("messages").addObject().put("role", "assistant").put("content", answer);
            second.withArray("messages").addObject().put("role", "user").put("content", "the world");
            JsonNode two = TestServer.json(server.post("/v1/chat/completions", second));
            int cached = two.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
            assertThat(cached).isGreaterThanOrEqualTo(one.get("usage").get("prompt_tokens").asInt());
            assertThat(cached).isLessThan(two.get("usage").get("prompt_tokens").asInt());
            assertThat(reference.chat("hello world", 8, 256)).isEqualTo(answer);
        }
    }

    /**
     * One slot, a queue of one. A streams without end (the scripted model never stops) and holds the slot; B waits in
     * the queue; C is refused with 429 + Retry-After. A's client then disconnects: its slot is freed and B completes.
     */
    @Test
    void fullQueueIs429AndADisconnectFreesTheSlot() throws Exception {
        Path zh = ScriptedModel.chinese(dir.resolve("zh-long.gguf"), 8192);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 16, 1, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("zh", zh, 8192, 1, null, null)));
        try (AutoglmServerHandle h = new AutoglmServerHandle(AutoglmServer.start(config))) {
            TestServer client = h.client();
            String body = ChatApiTest.chat("zh", "x").put("stream", true).toString();
            byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
            CompletableFuture<HttpResponse<String>> b;
            try (Socket a = new Socket("127.0.0.1", h.server.port())) {
                OutputStream out = a.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                        + bodyBytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(bodyBytes);
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(a.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !line.contains("\"content\":\"中")) {
                    // headers and the role chunk
                }
                assertThat(line).as("A streams").isNotNull();

                b = client.http.sendAsync(HttpRequest.newBuilder(URI.create(client.base() + "/v1/chat/completions"))
                        .header("Content-Type", "application/json") // a server without keys takes JSON bodies only
                        .POST(HttpRequest.BodyPublishers.ofString(ChatApiTest.chat("zh", "y").put("max_tokens", 6).toString())).build(),
                        HttpResponse.BodyHandlers.ofString());
                waitFor(() -> client.metric("autoglm_queue_depth{model=\"zh\"}") == 1);

                HttpResponse<String> c = client.post("/v1/chat/completions", ChatApiTest.chat("zh", "z").put("max_tokens", 2));
                JsonNode err = ErrorsTest.error(c, 429);
                assertThat(err.get("type").asText()).isEqualTo("rate_limit_error");
                assertThat(c.headers().firstValue("retry-after")).hasValue("1");
                assertThat(b).isNotDone();
            } // A disconnects

            // The queued request B gets A's slot once the server notices A is gone.
            HttpResponse<String> done = b.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(done.statusCode()).isEqualTo(200);
            assertThat(TestServer.json(done).get("choices").get(0).get("message").get("content").asText()).isEqualTo("中文");
            waitFor(() -> client.metric("autoglm_requests_finished_total{model=\"zh\",outcome=\"cancelled\"}") == 1);
            waitFor(() -> client.metric("autoglm_active_slots{model=\"zh\"}") == 0);
            // A was stopped long before the ~8180 tokens it would have run to.
            assertThat(client.metric("autoglm_generated_tokens_total{model=\"zh\"}")).isLessThan(4000);
        }
    }

    /**
     * A non-streamed request writes nothing until its end, so only the connection tells that its client left: a raw
     * socket sends one whose answer would take ~8180 tokens and closes while it runs. The slot is freed (the job
     * counted as cancelled, long before its end) and the next request is served at once by the one slot.
     */
    @Test
    void aNonStreamedClientThatDisconnectsFreesItsSlot() throws Exception {
        Path zh = ScriptedModel.chinese(dir.resolve("zh-long.gguf"), 8192);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 16, 4, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("zh", zh, 8192, 1, null, null)));
        try (AutoglmServerHandle h = new AutoglmServerHandle(AutoglmServer.start(config))) {
            TestServer client = h.client();
            byte[] body = ChatApiTest.chat("zh", "x").toString().getBytes(StandardCharsets.UTF_8);
            try (Socket a = new Socket("127.0.0.1", h.server.port())) {
                OutputStream out = a.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                waitFor(() -> client.metric("autoglm_active_slots{model=\"zh\"}") == 1);
            } // the client leaves without reading anything
            waitFor(() -> client.metric("autoglm_requests_finished_total{model=\"zh\",outcome=\"cancelled\"}") == 1);
            waitFor(() -> client.metric("autoglm_active_slots{model=\"zh\"}") == 0);
            assertThat(client.metric("autoglm_requests_finished_total{model=\"zh\",outcome=\"length\"}")).isZero();
            HttpResponse<String> next = client.post("/v1/chat/completions", ChatApiTest.chat("zh", "y").put("max_tokens", 6));
            assertThat(TestServer.json(next).get("choices").get(0).get("message").get("content").asText()).isEqualTo("中文");
            waitFor(() -> client.metric("autoglm_http_requests_total{route=\"/v1/chat/completions\",status=\"499\"}") == 1);
            // A client that stays gets its answer, on a connection the server then closes (see ClientConnections).
            assertThat(next.headers().firstValue("connection")).hasValue("close");
        }
    }

    /**
     * A request that reaches the server's time limit after producing tokens ends like max_tokens, with what it has,
     * streamed or not, and frees its slot.
     */
    @Test
    void theRequestTimeLimitEndsALongGeneration() throws Exception {
        Path zh = ScriptedModel.chinese(dir.resolve("zh-long.gguf"), 8192);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 16, 1, Duration.ofMillis(300), 256,
                List.of(new ModelSpec("zh", zh, 8192, 1, null, null)));
        try (TestServer client = TestServer.client(AutoglmServer.start(config))) {
            JsonNode r = TestServer.json(client.post("/v1/chat/completions", ChatApiTest.chat("zh", "x")));
            JsonNode choice = r.get("choices").get(0);
            assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
            int tokens = r.get("usage").get("completion_tokens").asInt();
            assertThat(tokens).isGreaterThan(0).isLessThan(8000);
            assertThat(choice.get("message").get("content").asText()).matches("(中文)*中?");
            assertThat(client.metric("autoglm_requests_finished_total{model=\"zh\",outcome=\"timeout\"}")).isEqualTo(1);
            // its slot is free again: the next request (streamed this time) runs, and is cut the same way
            waitFor(() -> client.metric("autoglm_active_slots{model=\"zh\"}") == 0);
            List<String> events = ChatApiTest.events(client.post("/v1/chat/completions", ChatApiTest.chat("zh", "y").put("stream", true)).body());
            JsonNode last = TestServer.JSON.readTree(events.getLast()).get("choices").get(0);
            assertThat(last.get("finish_reason").asText()).isEqualTo("length");
            waitFor(() -> client.metric("autoglm_requests_finished_total{model=\"zh\",outcome=\"timeout\"}") == 2);
            waitFor(() -> client.metric("autoglm_active_slots{model=\"zh\"}") == 0);
        }
    }

    /** Waits (up to a generous bound) for a condition the server reaches asynchronously. */
    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not reached in 30 s");
            Thread.sleep(20);
        }
    }

    /** A server started from a config, with the plain test client pointed at it. */
    record AutoglmServerHandle(AutoglmServer server) implements AutoCloseable {
        TestServer client() {
            return TestServer.client(server);
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
