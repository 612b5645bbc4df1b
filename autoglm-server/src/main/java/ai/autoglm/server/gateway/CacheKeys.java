package ai.autoglm.server.gateway;

import ai.autoglm.server.security.FileDigest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Which requests the response cache may answer, and their keys. A request is repeatable when its answer is fixed by
 * its content: greedy ({@code temperature} 0) or seeded sampling ({@code seed} given; the sampler's generator is
 * seeded from it). Anything else is sampled and never cached. Repeatable is not bit-exact: a sequence batched with
 * others agrees with the same sequence run alone to float rounding, with the same greedy token
 * ({@code ForwardBatchTest}), so a rerun could pick another token where two are tied within rounding; the cached
 * answer is still one the model gave for exactly this request.
 */
public final class CacheKeys {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CacheKeys() {
    }

    public static boolean repeatable(JsonNode request) {
        JsonNode t = request.get("temperature");
        JsonNode seed = request.get("seed");
        return (t != null && t.isNumber() && t.asDouble() == 0) || (seed != null && !seed.isNull());
    }

    /**
     * SHA-256 of who may share the entry ({@link #scope}), the model's content digest, the route, the settings of the
     * filters that shape the answer, and the request in canonical form (object keys sorted at every level, no
     * whitespace), so that the same request written with its fields in another order hits the same entry.
     */
    public static String key(String scope, String modelDigest, String route, String filterFingerprint, JsonNode request) {
        String text = "autoglm-cache-v2\n" + scope + "\n" + modelDigest + "\n" + route + "\n" + filterFingerprint + "\n" + canonical(request);
        return FileDigest.sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The part of the cache key that says who shares it: the key's stored hash (unique per key, so a revoked key's
     * name reused by a new key shares nothing), its role, or nobody in particular; "open" without keys.
     */
    public static String scope(ai.autoglm.server.config.CacheConfig.Scope scope, Principal p) {
        if (p.key() == null) return "open";
        return switch (scope) {
            case KEY -> "key:" + p.key().hash();
            case ROLE -> "role:" + p.key().role();
            case EVERYONE -> "everyone";
        };
    }

    static String canonical(JsonNode node) {
        try {
            return JSON.writeValueAsString(sorted(node));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = JSON.createObjectNode();
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            for (String n : names) out.set(n, sorted(node.get(n)));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JSON.createArrayNode();
            for (JsonNode e : node) out.add(sorted(e));
            return out;
        }
        return node;
    }
}
