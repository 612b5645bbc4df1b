package ai.autoglm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAI wire format through raw HTTP: response objects, SSE framing byte for byte, logprobs, stop strings,
 * streamed Chinese text, tokenize/detokenize, models, health and metrics. Generated text is checked against the
 * single-sequence {@code Generator} (random-weight model) or against the scripted model's known output.
 */
class ChatApiTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static GreedyReference reference;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 2, 8);
        reference = new GreedyReference(server.llama);
    }

    @AfterAll
    static void stop() {
        reference.close();
        server.close();
    }

    static ObjectNode chat(String model, String user) {
        ObjectNode body = TestServer.JSON.createObjectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        return body;
    }

    /** Splits an SSE body into its data payloads, asserting the exact framing. */
    static List<String> events(String body) {
        assertThat(body).endsWith("data: [DONE]\n\n");
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n", -1)) {
            if (event.isEmpty()) continue;
            assertThat(event).startsWith("data: ").doesNotContain("\n");
            out.add(event.substring("data: ".length()));
        }
        assertThat(out.getLast()).isEqualTo("[DONE]");
        return out.subList(0, out.size() - 1);
    }

    @Test
    void nonStreamingChatIsAChatCompletionEqualToTheGenerator() {
        ObjectNode body = chat("llama", "hello world");
        body.put("temperature", 0).put("max_tokens", 24);
        HttpResponse<String> r = server.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        JsonNode j = TestServer.json(r);
        assertThat(j.get("object").asText()).isEqualTo("chat.completion");
        assertThat(j.get("id").asText()).startsWith("chatcmpl-");
        assertThat(j.get("model").asText()).isEqualTo("llama");
        JsonNode choice = j.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        String expected = reference.chat("hello world", 24, 256);
        assertThat(expected).hasSizeGreaterThan(5);
        assertThat(choice.get("message").get("content").asText()).isEqualTo(expected);
        assertThat(choice.get("finish_reason").asText()).isIn("stop", "length");
        JsonNode usage = j.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(reference.chatPromptTokens("hello world"));
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
    }

    @Test
    void streamingChatHasExactSseFramingRoleFirstFinishLastAndUsage() throws Exception {
        ObjectNode body = chat("llama", "the world");
        body.put("temperature", 0).put("max_completion_tokens", 20).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpResponse<String> r = server.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> events = events(r.body());
        List<JsonNode> chunks = new ArrayList<>();
        for (String e : events) chunks.add(TestServer.JSON.readTree(e));
        JsonNode usageChunk = chunks.removeLast();
        assertThat(usageChunk.get("choices")).isEmpty();
        assertThat(usageChunk.get("usage").get("completion_tokens").asInt()).isBetween(1, 20);

        StringBuilder text = new StringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            JsonNode c = chunks.get(i);
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.get("id").asText()).isEqualTo(chunks.getFirst().get("id").asText());
            JsonNode choice = c.get("choices").get(0);
            JsonNode delta = choice.get("delta");
            assertThat(delta.has("role")).isEqualTo(i == 0);
            if (i == 0) assertThat(delta.get("role").asText()).isEqualTo("assistant");
            boolean last = i == chunks.size() - 1;
            assertThat(choice.get("finish_reason").isNull()).as("finish_reason only on the last chunk").isEqualTo(!last);
            if (delta.has("content")) text.append(delta.get("content").asText());
        }
        assertThat(text.toString()).isEqualTo(reference.chat("the world", 20, 256)).hasSizeGreaterThan(5);
    }

    @Test
    void completionsEndpointMatchesTheGeneratorStreamedAndNot() throws Exception {
        String expected = reference.completion("hello the world", 16, 256);
        assertThat(expected).hasSizeGreaterThan(5);
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", "llama").put("prompt", "hello the world")
                .put("temperature", 0).put("max_tokens", 16);
        JsonNode j = TestServer.json(server.post("/v1/completions", body));
        assertThat(j.get("object").asText()).isEqualTo("text_completion");
        assertThat(j.get("choices").get(0).get("text").asText()).isEqualTo(expected);

        body.put("stream", true);
        StringBuilder text = new StringBuilder();
        for (String e : events(server.post("/v1/completions", body).body())) {
            text.append(TestServer.JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        assertThat(text.toString()).isEqualTo(expected);
    }

    /**
     * The scripted model emits 中 and 文 one UTF-8 byte per token: every streamed piece must be whole characters,
     * and the logprobs' bytes must add up to exactly the text.
     */
    @Test
    void streamedChineseNeverSplitsACharacterAndLogprobBytesAddUp() throws Exception {
        ObjectNode body = chat("zh", "你好");
        body.put("max_tokens", 12).put("stream", true).put("logprobs", true).put("top_logprobs", 2);
        List<String> events = events(server.post("/v1/chat/completions", body).body());
        StringBuilder text = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        String finish = null;
        for (String e : events) {
            JsonNode choice = TestServer.JSON.readTree(e).get("choices").get(0);
            String piece = choice.get("delta").path("content").asText("");
            assertThat(piece).matches("[中文]*");
            text.append(piece);
            if (!choice.get("logprobs").isNull()) {
                for (JsonNode lp : choice.get("logprobs").get("content")) {
                    for (JsonNode b : lp.get("bytes")) bytes.write(b.asInt());
                    JsonNode top = lp.get("top_logprobs");
                    assertThat(top).hasSize(2);
                    assertThat(top.get(0).get("logprob").asDouble()).isEqualTo(lp.get("logprob").asDouble());
                    assertThat(top.get(0).get("logprob").asDouble()).isGreaterThan(top.get(1).get("logprob").asDouble());
                }
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
        }
        assertThat(text.toString()).isEqualTo("中文中文");
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("中文中文");
        assertThat(finish).isEqualTo("length");
    }

    @Test
    void stopStringsCutTheTextAndEndWithStop() {
        ObjectNode body = chat("zh", "x");
        body.put("max_tokens", 30);
        body.putArray("stop").add("文中文").add("never");
        JsonNode choice = TestServer.json(server.post("/v1/chat/completions", body)).get("choices").get(0);
        assertThat(choice.get("message").get("content").asText()).isEqualTo("中");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");

        body.put("stop", "中文中");
        assertThat(TestServer.json(server.post("/v1/chat/completions", body)).get("choices").get(0).get("message").get("content").asText()).isEmpty();
    }

    @Test
    void unknownFieldsThatClientsSendAreIgnored() {
        ObjectNode body = chat("zh", "x");
        body.put("max_tokens", 3).put("user", "u-1").put("store", false).put("parallel_tool_calls", true)
                .put("service_tier", "auto").put("n", 1).put("some_future_field", 42);
        body.putObject("metadata").put("k", "v");
        HttpResponse<String> r = server.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(TestServer.json(r).get("choices").get(0).get("message").get("content").asText()).isEqualTo("中");
    }

    @Test
    void modelsHealthTokenizeDetokenizeAndMetrics() {
        JsonNode models = TestServer.json(server.get("/v1/models"));
        assertThat(models.get("object").asText()).isEqualTo("list");
        List<String> ids = new ArrayList<>();
        models.get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertThat(ids).containsExactly("llama", "zh", "tools");
        assertThat(TestServer.json(server.get("/v1/models/zh")).get("object").asText()).isEqualTo("model");
        assertThat(TestServer.json(server.get("/health")).get("status").asText()).isEqualTo("ok");

        // vLLM body and llama.cpp body give the same ids; the fixture's byte-level vocabulary makes the ids of
        // text without merges its UTF-8 bytes.
        JsonNode vllm = TestServer.json(server.post("/tokenize", "{\"model\":\"zh\",\"prompt\":\"中文 ok\",\"add_special_tokens\":false}"));
        JsonNode cpp = TestServer.json(server.post("/tokenize", "{\"model\":\"zh\",\"content\":\"中文 ok\"}"));
        List<Integer> expected = new ArrayList<>();
        for (byte b : "中文 ok".getBytes(StandardCharsets.UTF_8)) expected.add(b & 0xFF);
        List<Integer> got = new ArrayList<>();
        vllm.get("tokens").forEach(t -> got.add(t.asInt()));
        assertThat(got).isEqualTo(expected);
        assertThat(cpp.get("tokens")).isEqualTo(vllm.get("tokens"));
        assertThat(vllm.get("count").asInt()).isEqualTo(expected.size());
        assertThat(vllm.get("max_model_len").asInt()).isEqualTo(64);
        ObjectNode detok = TestServer.JSON.createObjectNode().put("model", "zh");
        detok.set("tokens", vllm.get("tokens"));
        assertThat(TestServer.json(server.post("/detokenize", detok)).get("prompt").asText()).isEqualTo("中文 ok");

        server.post("/v1/chat/completions", chat("zh", "x").put("max_tokens", 2));
        String metrics = server.get("/metrics").body();
        assertThat(metrics).contains("autoglm_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}")
                .contains("autoglm_http_request_duration_seconds_bucket").contains("autoglm_time_to_first_token_seconds_bucket")
                .contains("autoglm_generated_tokens_total{model=\"zh\"}").contains("autoglm_queue_depth{model=\"zh\"}")
                .contains("autoglm_active_slots{model=\"zh\"}").contains("autoglm_kv_cache_usage_ratio{model=\"zh\"}")
                .contains("autoglm_decode_tokens_per_second{model=\"zh\"}");
    }
}
