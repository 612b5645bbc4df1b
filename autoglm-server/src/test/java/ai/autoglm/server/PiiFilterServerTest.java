package ai.autoglm.server;

import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.PiiConfig;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PII filter through the real server: a scripted model whose answer carries a phone number, an e-mail address
 * and a card number each split over several tokens (so over several SSE chunks); input redaction seen through
 * {@code echo}; rejection mode.
 */
class PiiFilterServerTest {
    /** The answer, one token per piece: every piece boundary falls inside a piece of personal data. */
    static final List<String> PIECES = List.of("Sure. Call 138", "0013", "8000 or write to li", "@exam", "ple.com; card 4111 1111 ",
            "1111 1111", " thanks.");
    static final String REDACTED = "Sure. Call [REDACTED:phone] or write to [REDACTED:email]; card [REDACTED:bank-card] thanks.";

    /** Issue 15 item 7: the same kinds written to evade the patterns, each split over chunks. */
    static final List<String> EVASIVE = List.of("Call \uFF11\uFF13\uFF18", "\u200B\uFF10\uFF10\uFF11\uFF13\u00A08", "000 or bob (a",
            "t) exam", "ple.com or \u0661\u0663\u0669\u0661\u0662", "\u0663\u0664\u0665\u0666\u0667\u0668; about Pr\u043Eject ", " \u0410ur\u200Bora.");
    static final String EVASIVE_REDACTED = "Call [REDACTED:phone] or [REDACTED:email] or [REDACTED:phone]; about [REDACTED:blocked-term].";

    @TempDir
    static Path dir;
    static TestServer redacting;
    static TestServer rejecting;

    /** A scripted model that answers {@code pieces} (one token each), then {@code <|im_end|>}. */
    static Path speaker(Path file, List<String> pieces) {
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        int prev = '\n';
        for (int i = 0; i < pieces.size(); i++) {
            chain.put(prev, ModelFixtures.VOCAB_SIZE + i);
            prev = ModelFixtures.VOCAB_SIZE + i;
        }
        chain.put(prev, ModelFixtures.TOKENS.indexOf(ModelFixtures.IM_END));
        return ScriptedModel.write(file, pieces, chain, 256, ModelFixtures.CHAT_TEMPLATE);
    }

    static TestServer start(Path speaker, Path llama, PiiConfig pii) {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("speaker", speaker, 256, 1, null, null),
                new ModelSpec("llama", llama, 256, 1, null, null),
                new ModelSpec("evader", speaker(dir.resolve("evader.gguf"), EVASIVE), 256, 1, null, null)), GatewayFilters.NONE.withPii(pii));
        return TestServer.client(AutoglmServer.start(config));
    }

    @BeforeAll
    static void start() {
        Path speaker = speaker(dir.resolve("speaker.gguf"), PIECES);
        Path llama = TestServer.llamaFile(dir);
        redacting = start(speaker, llama, PiiConfig.redactAll());
        rejecting = start(speaker, llama, new PiiConfig(PiiConfig.Action.REJECT, PiiConfig.Action.REDACT, PiiConfig.BUILT_IN_KINDS,
                List.of(), List.of("Project Aurora")));
    }

    @AfterAll
    static void stop() {
        if (redacting != null) redacting.close();
        if (rejecting != null) rejecting.close();
    }

    static String chat(String model, String content, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\""
                + content + "\"}]}";
    }

    static JsonNode parse(String json) {
        try {
            return TestServer.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError(json, e);
        }
    }

    @Test
    void nonStreamedAnswerIsRedacted() {
        HttpResponse<String> r = redacting.post("/v1/chat/completions", chat("speaker", "hi", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(TestServer.json(r).at("/choices/0/message/content").asText()).isEqualTo(REDACTED);
    }

    @Test
    void streamedAnswerIsRedactedThoughEachNumberIsSplitOverChunks() {
        HttpResponse<String> r = redacting.post("/v1/chat/completions", chat("speaker", "hi", true));
        assertThat(r.statusCode()).isEqualTo(200);
        List<String> deltas = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode d = parse(line.substring(6)).at("/choices/0/delta/content");
            if (d.isTextual() && !d.asText().isEmpty()) deltas.add(d.asText());
        }
        assertThat(String.join("", deltas)).isEqualTo(REDACTED);
        // No event carries any piece of the personal data, and the plain text before it was not held to the end.
        assertThat(withoutIds(r.body())).doesNotContain("138", "0013", "8000", "@exam", "4111", "1111");
        assertThat(deltas.getFirst()).startsWith("Sure. Call ");
        assertThat(deltas.size()).isGreaterThan(2);
    }

    /** Full-width, zero-width, NBSP, Arabic-Indic digits, (at), Cyrillic look-alikes, double spaces: all redacted in a stream. */
    @Test
    void evasiveWritingsAreRedactedInStreamedOutputAndInRequests() {
        HttpResponse<String> r = rejecting.post("/v1/chat/completions", chat("evader", "hi", true));
        assertThat(r.statusCode()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode d = parse(line.substring(6)).at("/choices/0/delta/content");
            if (d.isTextual()) text.append(d.asText());
        }
        assertThat(text.toString()).isEqualTo(EVASIVE_REDACTED);
        assertThat(withoutIds(r.body())).doesNotContain("\uFF11", "\u0661", "bob", "exam", "Aur", "\u0410");

        String body = "{\"model\":\"llama\",\"prompt\":\"mail zhang\uFF20example.cn or \uFF11\uFF13\uFF19\u200B1234\u00A05678\",\"echo\":true,\"max_tokens\":1,\"temperature\":0}";
        HttpResponse<String> echo = redacting.post("/v1/completions", body);
        assertThat(echo.statusCode()).isEqualTo(200);
        assertThat(TestServer.json(echo).at("/choices/0/text").asText()).startsWith("mail [REDACTED:email] or [REDACTED:phone]");

        HttpResponse<String> term = rejecting.post("/v1/completions", "{\"model\":\"llama\",\"prompt\":\"about pr\u043Eject\u200B  aurora\",\"max_tokens\":1}");
        assertThat(term.statusCode()).isEqualTo(400);
        assertThat(TestServer.json(term).at("/error/code").asText()).isEqualTo("pii_detected");
    }

    @Test
    void inputIsRedactedBeforeTheModelSeesIt() {
        String body = "{\"model\":\"llama\",\"prompt\":\"mail zhang.san@example.cn or 13912345678\",\"echo\":true,\"max_tokens\":1,\"temperature\":0}";
        HttpResponse<String> r = redacting.post("/v1/completions", body);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(TestServer.json(r).at("/choices/0/text").asText()).startsWith("mail [REDACTED:email] or [REDACTED:phone]");
    }

    @Test
    void rejectionNamesTheKindAndFieldButNeverTheValue() {
        String id = ai.autoglm.server.gateway.PiiScannerTest.withIdCheck("11010519491231002");
        HttpResponse<String> r = rejecting.post("/v1/chat/completions", chat("speaker", "my id is " + id, false));
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode err = TestServer.json(r).get("error");
        assertThat(err.get("code").asText()).isEqualTo("pii_detected");
        assertThat(err.get("param").asText()).isEqualTo("messages");
        assertThat(err.get("message").asText()).contains("messages[0].content", "Chinese resident ID number");
        assertThat(r.body()).doesNotContain(id).doesNotContain(id.substring(0, 6));

        HttpResponse<String> term = rejecting.post("/v1/completions", "{\"model\":\"llama\",\"prompt\":\"about project aurora\",\"max_tokens\":1}");
        assertThat(term.statusCode()).isEqualTo(400);
        assertThat(TestServer.json(term).at("/error/message").asText()).contains("a blocked term").doesNotContainIgnoringCase("aurora");

        // The same request without personal data goes through.
        assertThat(rejecting.post("/v1/chat/completions", chat("speaker", "hello", false)).statusCode()).isEqualTo(200);
    }

    @Test
    void logprobsAreRefusedWhileAnswersAreFiltered() {
        String body = "{\"model\":\"speaker\",\"logprobs\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> r = redacting.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(TestServer.json(r).at("/error/param").asText()).isEqualTo("logprobs");
    }

    /** The SSE body without its random {@code id} and its {@code created} time, which may contain any digits. */
    private static String withoutIds(String body) {
        return body.replaceAll("\"id\":\"[^\"]*\"", "").replaceAll("\"created\":\\d+", "");
    }
}
