package ai.autoglm.server.api;

import ai.autoglm.server.models.ServedModel;
import ai.autoglm.server.gateway.CacheKeys;
import ai.autoglm.server.gateway.CachedResponse;
import ai.autoglm.server.gateway.ResponseCache;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The response cache: a hit answers here; a miss runs the endpoint and stores its answer when it completed. Only
 * for repeatable generation requests (see {@link CacheKeys#repeatable}); the key holds the (already acquired)
 * model's content digest, the route, the filters' fingerprint and the request.
 *
 * <p>Cache headers: a repeatable request gets {@code X-Autoglm-Cache: hit}, {@code miss} or {@code bypass} (the
 * client sent {@code Cache-Control: no-cache}, which skips the lookup but stores the fresh answer, or
 * {@code no-store}, which skips both).
 */
final class CacheStage implements Stage {
    static final String CACHE_HEADER = "X-Autoglm-Cache";

    private final OpenAiApi api;
    private final ResponseCache cache;
    private final String fingerprint;

    /** @param fingerprint the settings that change what an answer looks like (the PII filter's), for the key */
    CacheStage(OpenAiApi api, ResponseCache cache, String fingerprint) {
        this.api = api;
        this.cache = cache;
        this.fingerprint = fingerprint;
    }

    @Override
    public void handle(Call call, Next next) throws IOException {
        HttpExchange ex = call.exchange();
        JsonNode body = call.body();
        if (!CacheKeys.repeatable(body)) {
            next.handle(call);
            return;
        }
        Set<String> control = cacheControl(ex);
        if (control.contains("no-store")) {
            ex.responseHeader(CACHE_HEADER, "bypass");
            next.handle(call);
            return;
        }
        ServedModel m = (ServedModel) call.model();
        String key = CacheKeys.key(CacheKeys.scope(api.config().filters().cache().scope(), ex.principal()), m.contentDigest(), call.route(),
                fingerprint, body);
        boolean lookup = !control.contains("no-cache");
        if (lookup) {
            Optional<CachedResponse> hit = cache.get(key);
            if (hit.isPresent()) {
                ex.context().model(m.alias());
                ex.context().cacheHit(true);
                ex.responseHeader(CACHE_HEADER, "hit");
                if (hit.get().contentType().startsWith("text/event-stream")) ex.responseHeader("Cache-Control", "no-cache");
                // A hit is a new answer to a new request: its own id and created, never the first request's.
                ex.send(200, hit.get().contentType(), CachedAnswers.renew(hit.get(), call.route()));
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
        next.handle(call);
    }

    private long cacheEntryLimit() {
        return api.config().filters().cache().maxEntryBytes();
    }

    private static Set<String> cacheControl(HttpExchange ex) {
        return ex.request().headers().all(io.helidon.http.HeaderNames.CACHE_CONTROL, java.util.List::of).stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
    }
}
