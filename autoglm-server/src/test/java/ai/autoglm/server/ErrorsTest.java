package ai.autoglm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Every kind of bad request gets the right status and an OpenAI error object naming the problem; never a stack trace. */
class ErrorsTest {
    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 1, 4);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Asserts status and error shape; returns the error object. */
    static JsonNode error(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
        JsonNode e = TestServer.json(r).get("error");
        assertThat(e).isNotNull();
        assertThat(e.has("message") && e.has("type") && e.has("param") && e.has("code")).as(r.body()).isTrue();
        assertThat(e.get("message").asText()).isNotBlank();
        return e;
    }

    static ObjectNode chat() {
        return ChatApiTest.chat("zh", "hi").put("max_tokens", 2);
    }

    static void badParam(ObjectNode body, String param) {
        JsonNode e = error(server.post("/v1/chat/completions", body), 400);
        assertThat(e.get("param").asText()).as(e.toString()).isEqualTo(param);
        assertThat(e.get("message").asText()).contains(param.replaceAll("\\[.*", ""));
    }

    @Test
    void malformedJson() {
        JsonNode e = error(server.post("/v1/chat/completions", "{\"model\": \"zh\", \"messages\": [}"), 400);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).contains("not valid JSON").contains("line 1");
        error(server.post("/v1/chat/completions", "[1,2]"), 400);
        error(server.post("/v1/chat/completions", ""), 400);
    }

    @Test
    void outOfRangeAndWrongTypesNameTheParameter() {
        badParam(chat().put("temperature", 2.5), "temperature");
        badParam(chat().put("temperature", "hot"), "temperature");
        badParam(chat().put("top_p", 0), "top_p");
        badParam(chat().put("max_tokens", 0), "max_tokens");
        badParam(chat().put("max_completion_tokens", -3), "max_completion_tokens");
        badParam(chat().put("presence_penalty", 3), "presence_penalty");
        badParam(chat().put("frequency_penalty", -2.5), "frequency_penalty");
        badParam(chat().put("seed", 1.5), "seed");
        badParam(chat().put("top_logprobs", 3), "top_logprobs");
        badParam(chat().put("logprobs", true).put("top_logprobs", 21), "top_logprobs");
        badParam(chat().put("stop", 5), "stop");
        badParam(chat().put("stream_options", "x").put("stream", true), "stream_options");
        ObjectNode noMessages = chat();
        noMessages.remove("messages");
        badParam(noMessages, "messages");
        ObjectNode badRole = chat();
        ((ObjectNode) badRole.get("messages").get(0)).put("role", "wizard");
        badParam(badRole, "messages[0].role");
    }

    @Test
    void documentedValuesWeCannotHonourAreRefusedByName() {
        badParam(chat().put("n", 2), "n");
        badParam(chat().put("tool_choice", "required"), "tool_choice");
        ObjectNode rf = chat();
        rf.putObject("response_format").put("type", "json_object");
        badParam(rf, "response_format");
        ObjectNode bias = chat();
        bias.putObject("logit_bias").put("42", 5);
        badParam(bias, "logit_bias");
        ObjectNode image = chat();
        ((ObjectNode) image.get("messages").get(0)).putArray("content").addObject().put("type", "image_url");
        badParam(image, "messages[0].content[0].type");
        JsonNode e = error(server.post("/v1/completions", "{\"model\":\"zh\",\"prompt\":\"x\",\"suffix\":\"y\"}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("suffix");
    }

    @Test
    void promptLongerThanTheContextSaysTheNumbers() {
        JsonNode e = error(server.post("/v1/chat/completions", ChatApiTest.chat("zh", "x".repeat(100))), 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("message").asText()).contains("64").contains("tokens");
        JsonNode tooMany = error(server.post("/v1/chat/completions", ChatApiTest.chat("zh", "x").put("max_tokens", 60)), 400);
        assertThat(tooMany.get("param").asText()).isEqualTo("max_tokens");
        assertThat(tooMany.get("message").asText()).contains("64").contains("60");
    }

    @Test
    void unknownModelAndRoute() {
        JsonNode e = error(server.post("/v1/chat/completions", ChatApiTest.chat("gpt-17", "x")), 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(e.get("param").asText()).isEqualTo("model");
        assertThat(e.get("message").asText()).contains("gpt-17");
        error(server.get("/v1/models/gpt-17"), 404);
        error(server.get("/v1/nothing-here"), 404);
        JsonNode m = error(server.get("/v1/chat/completions"), 405);
        assertThat(m.get("message").asText()).contains("POST");
    }

    @Test
    void oversizedBodyIs413() {
        String big = "{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(70 * 1024) + "\"}]}";
        error(server.post("/v1/chat/completions", big), 413);
        // Also without a Content-Length (chunked upload).
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(server.base() + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big.getBytes()))).build();
        error(server.send(chunked), 413);
        // The server is still fine afterwards.
        assertThat(server.post("/v1/chat/completions", chat()).statusCode()).isEqualTo(200);
    }
}
