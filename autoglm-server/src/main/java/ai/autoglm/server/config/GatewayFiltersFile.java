package ai.autoglm.server.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads the config file's {@code cache:}, {@code pii:} and {@code trust:} sections (see {@link ServerConfigFile}):
 * <pre>
 * cache:                     # present = on
 *   redis: redis://127.0.0.1:6379/0   # optional: shared through Redis instead of in-process
 *   ttl: 1h
 *   max-bytes: 268435456
 *   max-entry-bytes: 4194304
 *   scope: key               # who shares answers: key (default) | role | everyone
 * pii:
 *   input: redact            # redact | reject | off
 *   output: redact           # redact | off
 *   kinds: [email, phone, cn-id, bank-card, ip, secret]   # default: all
 *   patterns: [{name: ticket, regex: 'TICKET-\d{6}'}]
 *   blocked-terms: [project aurora]
 * trust:
 *   keys: [keys/release.pub]  # Ed25519 public keys (PEM); models must be signed by one of them
 * </pre>
 */
final class GatewayFiltersFile {
    static final Set<String> SECTIONS = Set.of("cache", "pii", "trust");
    private static final Set<String> CACHE_KEYS = Set.of("redis", "ttl", "max-bytes", "max-entry-bytes", "scope");
    private static final Set<String> PII_KEYS = Set.of("input", "output", "kinds", "patterns", "blocked-terms");
    private static final Set<String> PATTERN_KEYS = Set.of("name", "regex");

    private GatewayFiltersFile() {
    }

    static GatewayFilters read(Path file, JsonNode root) {
        Path base = file.toAbsolutePath().getParent();
        return new GatewayFilters(
                root.has("cache") ? cache(file, root.get("cache")) : null,
                root.has("pii") ? pii(file, root.get("pii")) : null,
                root.has("trust") ? trust(file, base, root.get("trust")) : TrustConfig.NONE);
    }

    private static CacheConfig cache(Path file, JsonNode n) {
        if (n.isNull()) return CacheConfig.inProcess();
        keys(file, "cache.", n, CACHE_KEYS);
        String redis = n.has("redis") ? string(file, "cache.redis", n.get("redis")) : null;
        if (redis != null && !redis.startsWith("redis://")) throw new IllegalArgumentException(file + ": 'cache.redis' must be a redis://host:port URL, got '" + redis + "'");
        try {
            return new CacheConfig(redis,
                    n.has("ttl") ? ServerConfigFile.duration(file, "cache.ttl", n.get("ttl")) : CacheConfig.DEFAULT_TTL,
                    n.has("max-bytes") ? number(file, "cache.max-bytes", n.get("max-bytes")) : CacheConfig.DEFAULT_MAX_BYTES,
                    n.has("max-entry-bytes") ? number(file, "cache.max-entry-bytes", n.get("max-entry-bytes")) : CacheConfig.DEFAULT_MAX_ENTRY_BYTES,
                    n.has("scope") ? CacheConfig.Scope.parse(string(file, "cache.scope", n.get("scope"))) : CacheConfig.Scope.KEY);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static PiiConfig pii(Path file, JsonNode n) {
        if (n.isNull()) return PiiConfig.redactAll();
        keys(file, "pii.", n, PII_KEYS);
        PiiConfig.Action input = n.has("input") ? action(file, "pii.input", n.get("input")) : PiiConfig.Action.REDACT;
        PiiConfig.Action output = n.has("output") ? action(file, "pii.output", n.get("output")) : PiiConfig.Action.REDACT;
        Set<String> kinds = n.has("kinds") ? new LinkedHashSet<>(strings(file, "pii.kinds", n.get("kinds"))) : PiiConfig.BUILT_IN_KINDS;
        List<PiiConfig.NamedPattern> patterns = new ArrayList<>();
        if (n.has("patterns")) {
            JsonNode ps = n.get("patterns");
            if (!ps.isArray()) throw new IllegalArgumentException(file + ": 'pii.patterns' must be a list of {name, regex}");
            for (int i = 0; i < ps.size(); i++) {
                String where = "pii.patterns[" + i + "].";
                keys(file, where, ps.get(i), PATTERN_KEYS);
                String name = string(file, where + "name", ps.get(i).get("name"));
                String regex = string(file, where + "regex", ps.get(i).get("regex"));
                try {
                    patterns.add(new PiiConfig.NamedPattern(name, Pattern.compile(regex)));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException(file + ": '" + where + "regex' is not a valid Java regex: " + e.getDescription());
                }
            }
        }
        List<String> blocked = n.has("blocked-terms") ? strings(file, "pii.blocked-terms", n.get("blocked-terms")) : List.of();
        try {
            return new PiiConfig(input, output, kinds, patterns, blocked);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static TrustConfig trust(Path file, Path base, JsonNode n) {
        keys(file, "trust.", n, Set.of("keys"));
        return new TrustConfig(strings(file, "trust.keys", n.path("keys")).stream().map(base::resolve).toList());
    }

    private static PiiConfig.Action action(Path file, String key, JsonNode v) {
        String s = string(file, key, v).toLowerCase(Locale.ROOT);
        return switch (s) {
            case "off", "false" -> PiiConfig.Action.OFF;
            case "redact" -> PiiConfig.Action.REDACT;
            case "reject" -> PiiConfig.Action.REJECT;
            default -> throw new IllegalArgumentException(file + ": '" + key + "' must be redact, reject or off, got '" + v.asText() + "'");
        };
    }

    private static void keys(Path file, String prefix, JsonNode node, Set<String> known) {
        if (!node.isObject()) throw new IllegalArgumentException(file + ": '" + prefix.substring(0, prefix.length() - 1) + "' must be a mapping");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) throw new IllegalArgumentException(file + ": unknown key '" + prefix + k + "'; known: " + known.stream().sorted().toList());
        }
    }

    private static String string(Path file, String key, JsonNode v) {
        if (v == null || !v.isValueNode() || v.isNull()) throw new IllegalArgumentException(file + ": '" + key + "' must be a string");
        return v.asText();
    }

    private static long number(Path file, String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new IllegalArgumentException(file + ": '" + key + "' must be an integer, got " + v);
        return v.asLong();
    }

    private static List<String> strings(Path file, String key, JsonNode v) {
        if (v == null || !v.isArray()) throw new IllegalArgumentException(file + ": '" + key + "' must be a list");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) out.add(string(file, key + "[" + i + "]", v.get(i)));
        return out;
    }
}
