package ai.autoglm.server.api;

import ai.autoglm.server.ServedModel;
import ai.autoglm.server.gateway.CacheKeys;
import ai.autoglm.server.gateway.CachedResponse;
import ai.autoglm.server.gateway.PiiFilter;
import ai.autoglm.server.gateway.RequestContext;
import ai.autoglm.server.gateway.RequestFilters;
import ai.autoglm.server.gateway.ResponseCache;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The gateway filters in front of a generation route, in the gateway's order (auth, role and rate limit run before this route): the PII filter on the request
 * (redact, or reject with a 400), the output filter for the answer, then the response cache (a hit answers here;
 * a miss runs the endpoint and stores its answer when it completed).
 *
 * <p>Cache headers: a repeatable request gets {@code X-Autoglm-Cache: hit}, {@code miss} or {@code bypass} (the
 * client sent {@code Cache-Control: no-cache}, which skips the lookup but stores the fresh answer, or
 * {@code no-store}, which skips both).
 */
final class GatewayRoute {
    static final String CACHE_HEADER = "X-Autoglm-Cache";

    private final OpenAiApi api;
    private final RequestFilters filters;

    GatewayRoute(OpenAiApi api, RequestFilters filters) {
        this.api = api;
        this.filters = filters;
    }

    OpenAiApi.Endpoint wrap(String route, OpenAiApi.Endpoint endpoint) {
        return (body, ex) -> handle(route, endpoint, body, ex);
    }

    private void handle(String route, OpenAiApi.Endpoint endpoint, JsonNode body, HttpExchange ex) throws IOException {
        RequestContext ctx = ex.context();
        PiiFilter pii = filters.pii();
        if (pii != null) {
            body = pii.filterInput(body, ctx); // a rejected request throws here: its text is never recorded
            if (pii.filtersOutput()) {
                if (asksLogprobs(body)) {
                    throw ApiException.unsupported("logprobs", "logprobs cannot be returned while this server filters personal data "
                            + "from answers: they would show the tokens the filter removes");
                }
                ex.outputFilter(pii.output(ctx));
            }
        }
        // The audit keeps what the filter let through, never the raw prompt.
        if (api.gateway().recordsText() && body.isObject()) ctx.promptText(promptOf(body));
        ResponseCache cache = filters.cache();
        JsonNode model = body.get("model");
        // Embeddings get the PII filter only: they are cheap next to generation and keyed on no sampling settings.
        if (cache == null || route.equals("/v1/embeddings") || !CacheKeys.repeatable(body) || (model != null && !model.isNull() && !model.isTextual())) {
            endpoint.handle(body, ex);
            return;
        }
        Set<String> control = cacheControl(ex);
        if (control.contains("no-store")) {
            ex.responseHeader(CACHE_HEADER, "bypass");
            endpoint.handle(body, ex);
            return;
        }
        ServedModel m = api.acquire(model == null || model.isNull() ? null : model.asText(), ex); // the key must be allowed the model, hit or miss
        String key = CacheKeys.key(CacheKeys.scope(api.config().filters().cache().scope(), ex.principal()), m.contentDigest(), route,
                filters.fingerprint(), body);
        boolean lookup = !control.contains("no-cache");
        if (lookup) {
            Optional<CachedResponse> hit = cache.get(key);
            if (hit.isPresent()) {
                ctx.model(m.alias());
                ctx.cacheHit(true);
                ex.responseHeader(CACHE_HEADER, "hit");
                if (hit.get().contentType().startsWith("text/event-stream")) ex.responseHeader("Cache-Control", "no-cache");
                // A hit is a new answer to a new request: its own id and created, never the first request's.
                ex.send(200, hit.get().contentType(), CachedAnswers.renew(hit.get(), route));
                return;
            }
        }
        ex.responseHeader(CACHE_HEADER, lookup ? "miss" : "bypass");
        ex.record(cacheEntryLimit());
        // Stored before the answer's last bytes leave, so a client's next request already finds it.
        ex.beforeComplete(status -> {
            CachedResponse answer = ex.recorded();
            if (answer != null) cache.put(key, answer);
        });
        endpoint.handle(body, ex);
    }

    private static String promptOf(JsonNode body) {
        for (String f : new String[]{"messages", "prompt", "input"}) {
            if (body.has(f)) return String.valueOf(body.get(f));
        }
        return null;
    }

    private long cacheEntryLimit() {
        return api.config().filters().cache().maxEntryBytes();
    }

    private static boolean asksLogprobs(JsonNode body) {
        JsonNode lp = body.get("logprobs");
        return lp != null && !lp.isNull() && !(lp.isBoolean() && !lp.asBoolean());
    }

    private static Set<String> cacheControl(HttpExchange ex) {
        return ex.request().headers().all(io.helidon.http.HeaderNames.CACHE_CONTROL, java.util.List::of).stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
    }
}
