package ai.autoglm.server;

import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.PiiConfig;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The order of the request pipeline (docs/security.md: authenticate → authorise → rate limit → read body → PII filter
 * → model → cache → endpoint, audit at the end), seen through a real server: each request below fails two checks,
 * and the answer must be the earlier stage's.
 */
class RequestPipelineTest {
    static final String CHAT = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}],\"max_tokens\":2}";
    static final String PII = "write to li@example.com";

    @TempDir
    static Path dir;
    static SecuredServer s;
    static String user;
    static String reader;

    @BeforeAll
    static void start() {
        PiiConfig reject = new PiiConfig(PiiConfig.Action.REJECT, PiiConfig.Action.OFF, PiiConfig.BUILT_IN_KINDS, List.of(), List.of());
        s = new SecuredServer(dir, UnaryOperator.identity(), GatewayFilters.NONE.withPii(reject));
        user = s.keys.create("alice", "user", List.of("zh"), null).secret();
        reader = s.keys.create("grafana", "reader", List.of(), null).secret();
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    static String code(HttpResponse<String> r) {
        JsonNode e = TestServer.json(r).get("error");
        assertThat(e).as(r.body()).isNotNull();
        return e.get("code").isNull() ? null : e.get("code").asText();
    }

    @Test
    void authenticationComesBeforeThePiiFilter() {
        HttpResponse<String> r = s.send("/v1/chat/completions", CHAT.formatted("zh", PII), null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        assertThat(code(r)).isEqualTo("invalid_api_key");
    }

    @Test
    void theRouteIsAuthorisedBeforeTheBodyIsRead() {
        // larger than the server's 64 KiB body limit: a key that may not use the route gets 403, not 413
        String big = CHAT.formatted("zh", "x".repeat(80 * 1024));
        HttpResponse<String> r = s.send("/v1/chat/completions", big, reader);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
        assertThat(code(r)).isEqualTo("permission_denied");
        HttpResponse<String> allowed = s.send("/v1/chat/completions", big, user);
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(413);
    }

    @Test
    void thePiiFilterComesBeforeTheModel() {
        // a model this key may not use, and one that does not exist: the PII refusal answers first
        for (String model : List.of("tools", "no-such-model")) {
            HttpResponse<String> r = s.send("/v1/chat/completions", CHAT.formatted(model, PII), user);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(code(r)).isEqualTo("pii_detected");
            assertThat(TestServer.json(r).get("error").get("param").asText()).isEqualTo("messages");
        }
    }

    @Test
    void theModelIsAuthorisedBeforeItIsLookedUp() throws Exception {
        HttpResponse<String> forbidden = s.send("/v1/chat/completions", CHAT.formatted("tools", "hi"), user);
        assertThat(forbidden.statusCode()).as(forbidden.body()).isEqualTo(403);
        HttpResponse<String> unknown = s.send("/v1/chat/completions", CHAT.formatted("no-such-model", "hi"), user);
        assertThat(unknown.statusCode()).as("a key limited to zh learns nothing about other names").isEqualTo(403);
        HttpResponse<String> ok = s.send("/v1/chat/completions", CHAT.formatted("zh", "hi"), user);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        // the refusals are audited like the answers
        assertThat(Files.readString(s.auditDir().resolve("audit.jsonl"))).contains("\"status\":403").contains("\"status\":200");
    }
}
