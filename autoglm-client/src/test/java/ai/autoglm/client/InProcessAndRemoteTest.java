package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The in-process and the remote route against each other on the bundled model: the reference for the in-process
 * client is a real {@code autoglm serve} (and the reverse), so a difference in prompt building, defaults, stop
 * handling or streaming shows up as different text.
 */
class InProcessAndRemoteTest {
    static AutoglmServer server;
    static AutoGLMClient local;
    static AutoGLMClient remote;

    @BeforeAll
    static void start() {
        server = TestServers.start(0);
        local = AutoGLMClient.inProcess().bundledModel().build();
        remote = TestServers.remote(server).build();
    }

    @AfterAll
    static void stop() {
        if (remote != null) remote.close();
        if (local != null) local.close();
        if (server != null) server.close();
    }

    static ChatRequest poemRequest(String prompt, int maxTokens) {
        return ChatRequest.builder().system("你是诗人。").user(prompt).options(GenerationOptions.greedy().withMaxTokens(maxTokens)).build();
    }

    @Test
    void sameGreedyAnswerInProcessAndThroughTheServer() {
        // one answer runs to max_tokens, one ends by itself (the bundled model answers some English prompts with nothing)
        for (String prompt : List.of("床前明月光", "月亮")) {
            ChatRequest req = poemRequest(prompt, 40);
            ChatResponse l = local.chat(req);
            ChatResponse r = remote.chat(req);
            assertThat(l.content()).isNotBlank().isEqualTo(r.content());
            assertThat(l.finishReason()).isEqualTo(r.finishReason());
            assertThat(l.usage().promptTokens()).isEqualTo(r.usage().promptTokens());
            assertThat(l.usage().completionTokens()).isEqualTo(r.usage().completionTokens()).isPositive();
            assertThat(l.route().kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(r.route().kind()).isEqualTo(Route.Kind.REMOTE);
            assertThat(r.route().reason()).contains(TestServers.url(server));
            assertThat(l.timing().total()).isPositive();
            assertThat(l.timing().timeToFirstToken()).isLessThanOrEqualTo(l.timing().total());
        }
    }

    @Test
    void seedShapeGenerateAnswersOnBothRoutes() {
        String l = local.generate("请总结以下会议记录要点", "会议讨论了春天的诗。");
        String r = remote.generate("请总结以下会议记录要点", "会议讨论了春天的诗。");
        // default sampling is OpenAI's (temperature 1): both answer, not necessarily alike; greedy is compared above
        assertThat(l).isNotNull();
        assertThat(r).isNotNull();
    }

    @Test
    void streamingGivesTheWholeAnswerInPiecesOnBothRoutes() {
        ChatRequest req = poemRequest("月", 40);
        String whole = local.chat(req).content();
        for (AutoGLMClient c : List.of(local, remote)) {
            List<String> pieces = new ArrayList<>();
            ChatResponse end;
            try (ChatStream s = c.stream(req)) {
                for (String p : s) pieces.add(p);
                end = s.response();
            }
            assertThat(pieces.size()).isGreaterThan(1);
            assertThat(String.join("", pieces)).isEqualTo(whole).isEqualTo(end.content());
            assertThat(end.usage().completionTokens()).isPositive();
            assertThat(end.finishReason()).isIn("stop", "length");
            assertThat(end.timing().timeToFirstToken()).isLessThan(end.timing().total());
        }
    }

    @Test
    void stopStringsEndTheAnswerOnBothRoutes() {
        ChatRequest plain = poemRequest("床前明月光", 40);
        String whole = local.chat(plain).content();
        assertThat(whole.length()).isGreaterThan(4);
        String stop = whole.substring(2, 4);
        ChatRequest stopped = plain.withOptions(plain.options().withStop(List.of(stop)));
        String expected = whole.substring(0, whole.indexOf(stop));
        assertThat(local.chat(stopped).content()).isEqualTo(expected);
        assertThat(remote.chat(stopped).content()).isEqualTo(expected);
        assertThat(local.chat(stopped).finishReason()).isEqualTo("stop");
    }

    @Test
    void cancellingAStreamFreesTheSlotOnBothRoutes() {
        ChatRequest req = poemRequest("长", 200);
        for (AutoGLMClient c : List.of(local, remote)) {
            try (ChatStream s = c.stream(req)) {
                assertThat(s.iterator().next()).isNotEmpty();
            } // closed after one piece: cancelled
            // the next request still gets an answer (the slot was given back; the server has 2 slots, local 8)
            assertThat(c.chat(poemRequest("月", 8)).content()).isNotNull();
        }
    }

    enum Tone { calm, sad, happy }

    /** Enum and boolean only: the grammar bounds whitespace (20 per place), so the answer must close in the context. */
    record Mood(Tone tone, boolean rhymes) {
    }

    @Test
    void structuredOutputIsParsedIntoARecordOnBothRoutes() throws Exception {
        ChatRequest req = ChatRequest.builder().system("你是诗人。").user("How do you feel? Answer in JSON.")
                .options(GenerationOptions.greedy()).build();
        Structured<Mood> l = local.chat(req, Mood.class);
        Structured<Mood> r = remote.chat(req, Mood.class);
        // an independent validator checks the text against the schema generated from the record
        var schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(JsonSchemas.ofRecord(Mood.class));
        assertThat(schema.validate(Json.MAPPER.readTree(l.response().content()))).isEmpty();
        assertThat(l.value()).isEqualTo(r.value());
        assertThat(l.value().tone()).isNotNull();
        assertThat(l.response().finishReason()).isEqualTo("stop");
    }

    @Test
    void tokenCountsAgree() {
        for (String t : List.of("床前明月光，疑是地上霜。", "hello world")) {
            assertThat(local.countTokens(t)).isEqualTo(remote.countTokens(t)).isPositive();
        }
    }

    @Test
    void aPromptLongerThanTheLocalContextIsAClearErrorNotCut() {
        String tooLong = "月".repeat(2000);
        assertThatThrownBy(() -> local.chat(ChatRequest.of(tooLong)))
                .isInstanceOf(ContextLengthExceededException.class).hasMessageContaining("maximum context length is 256");
        assertThatThrownBy(() -> remote.chat(ChatRequest.of(tooLong)))
                .isInstanceOf(ContextLengthExceededException.class).hasMessageContaining("256");
        // and the same for a requested answer that does not fit
        assertThatThrownBy(() -> local.chat(poemRequest("月", 1000))).isInstanceOf(ContextLengthExceededException.class);
    }
}
