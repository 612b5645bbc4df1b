package ai.autoglm.server.config;

import java.time.Duration;

/**
 * The response cache for repeatable requests (YAML {@code cache:}).
 *
 * @param redisUrl      {@code redis://host:port[/db]} to share the cache between servers through Redis, or null for
 *                      the in-process cache
 * @param ttl           how long an answer is kept
 * @param maxBytes      the in-process cache's size limit, in bytes of stored responses (Redis: its own maxmemory)
 * @param maxEntryBytes larger responses are not stored
 * @param scope         who shares an entry: the same API key (default), keys of the same role, or every caller
 */
public record CacheConfig(String redisUrl, Duration ttl, long maxBytes, long maxEntryBytes, Scope scope) {
    /**
     * Who may be answered from whose cached answers. A hit tells its caller that someone in the scope sent the same
     * request (a cross-key hit would show key B what key A asked), so by default nobody shares: each key has its own
     * entries. {@code role} and {@code everyone} trade that for more hits. Without keys every caller is the same.
     */
    public enum Scope {
        KEY, ROLE, EVERYONE;

        public static Scope parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "key" -> KEY;
                case "role" -> ROLE;
                case "everyone" -> EVERYONE;
                default -> throw new IllegalArgumentException("cache.scope must be key, role or everyone, got '" + s + "'");
            };
        }
    }

    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    public static final long DEFAULT_MAX_BYTES = 256L << 20;
    public static final long DEFAULT_MAX_ENTRY_BYTES = 4L << 20;

    public CacheConfig(String redisUrl, Duration ttl, long maxBytes, long maxEntryBytes) {
        this(redisUrl, ttl, maxBytes, maxEntryBytes, Scope.KEY);
    }

    public CacheConfig {
        if (scope == null) scope = Scope.KEY;
        if (ttl == null || ttl.isNegative() || ttl.isZero()) throw new IllegalArgumentException("cache.ttl must be a positive duration");
        if (maxBytes < 1) throw new IllegalArgumentException("cache.max-bytes must be positive, got " + maxBytes);
        if (maxEntryBytes < 1) throw new IllegalArgumentException("cache.max-entry-bytes must be positive, got " + maxEntryBytes);
    }

    public CacheConfig withScope(Scope s) {
        return new CacheConfig(redisUrl, ttl, maxBytes, maxEntryBytes, s);
    }

    public static CacheConfig inProcess() {
        return new CacheConfig(null, DEFAULT_TTL, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRY_BYTES);
    }
}
