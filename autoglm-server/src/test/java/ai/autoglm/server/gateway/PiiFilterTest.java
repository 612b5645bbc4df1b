package ai.autoglm.server.gateway;

import ai.autoglm.server.config.CacheConfig;
import ai.autoglm.server.config.PiiConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Which request fields the filter reads, what it records for the audit trail, and the cache's per-entry limit. */
class PiiFilterTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyTextFieldOfAChatIsRedactedAndTheActionsAreRecorded() throws Exception {
        JsonNode body = JSON.readTree("""
                {"model": "m", "messages": [
                  {"role": "user", "content": [{"type": "text", "text": "I am a@b.com"}]},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "1", "type": "function",
                    "function": {"name": "call", "arguments": "{\\"phone\\": \\"13800138000\\"}"}}]},
                  {"role": "tool", "content": "server 10.0.0.7"}]}""");
        String before = body.toString();
        RequestContext ctx = new RequestContext();
        JsonNode out = new PiiFilter(PiiConfig.redactAll()).filterInput(body, ctx);
        assertThat(body.toString()).isEqualTo(before);
        assertThat(out.at("/messages/0/content/0/text").asText()).isEqualTo("I am [REDACTED:email]");
        assertThat(out.at("/messages/1/tool_calls/0/function/arguments").asText()).isEqualTo("{\"phone\": \"[REDACTED:phone]\"}");
        assertThat(out.at("/messages/2/content").asText()).isEqualTo("server [REDACTED:ip]");
        assertThat(ctx.filterActions()).containsExactly("redact:email:input", "redact:phone:input", "redact:ip:input");

        OutputFilter.Stream s = new PiiFilter(PiiConfig.redactAll()).output(ctx).open();
        assertThat(s.push("mail x@y.org") + s.push(" ok") + s.finish()).isEqualTo("mail [REDACTED:email] ok");
        assertThat(ctx.filterActions()).contains("redact:email:output");
    }

    @Test
    void embeddingInputsAreFilteredLikePrompts() throws Exception {
        JsonNode body = JSON.readTree("{\"model\": \"e\", \"input\": [\"call 13800138000\", \"nothing here\"]}");
        RequestContext ctx = new RequestContext();
        JsonNode out = new PiiFilter(PiiConfig.redactAll()).filterInput(body, ctx);
        assertThat(out.at("/input/0").asText()).isEqualTo("call [REDACTED:phone]");
        assertThat(out.at("/input/1").asText()).isEqualTo("nothing here");
        JsonNode single = new PiiFilter(PiiConfig.redactAll()).filterInput(JSON.readTree("{\"input\": \"a@b.com\"}"), ctx);
        assertThat(single.get("input").asText()).isEqualTo("[REDACTED:email]");
    }

    @Test
    void settingsChangeTheFingerprint() {
        PiiConfig a = PiiConfig.redactAll();
        PiiConfig b = new PiiConfig(PiiConfig.Action.REDACT, PiiConfig.Action.OFF, a.kinds(), a.patterns(), a.blockedTerms());
        assertThat(new PiiFilter(a).fingerprint()).isEqualTo(new PiiFilter(a).fingerprint()).isNotEqualTo(new PiiFilter(b).fingerprint());
    }

    @Test
    void answersLargerThanTheEntryLimitAreNotKept() {
        try (ResponseCache cache = ResponseCache.of(new CacheConfig(null, Duration.ofMinutes(1), 1 << 20, 100))) {
            cache.put("small", new CachedResponse("application/json", new byte[100]));
            cache.put("large", new CachedResponse("application/json", new byte[101]));
            assertThat(cache.get("small")).isPresent();
            assertThat(cache.get("large")).isEmpty();
        }
    }

    @Test
    void onlyGreedyOrSeededRequestsAreRepeatable() throws Exception {
        assertThat(CacheKeys.repeatable(JSON.readTree("{\"temperature\": 0}"))).isTrue();
        assertThat(CacheKeys.repeatable(JSON.readTree("{\"temperature\": 0.0}"))).isTrue();
        assertThat(CacheKeys.repeatable(JSON.readTree("{\"temperature\": 1, \"seed\": 3}"))).isTrue();
        assertThat(CacheKeys.repeatable(JSON.readTree("{}"))).isFalse(); // OpenAI's default temperature is 1
        assertThat(CacheKeys.repeatable(JSON.readTree("{\"temperature\": 0.2, \"seed\": null}"))).isFalse();
    }
}
