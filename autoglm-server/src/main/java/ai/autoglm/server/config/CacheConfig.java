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
 */
public record CacheConfig(String redisUrl, Duration ttl, long maxBytes, long maxEntryBytes) {
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    public static final long DEFAULT_MAX_BYTES = 256L << 20;
    public static final long DEFAULT_MAX_ENTRY_BYTES = 4L << 20;

    public CacheConfig {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) throw new IllegalArgumentException("cache.ttl must be a positive duration");
        if (maxBytes < 1) throw new IllegalArgumentException("cache.max-bytes must be positive, got " + maxBytes);
        if (maxEntryBytes < 1) throw new IllegalArgumentException("cache.max-entry-bytes must be positive, got " + maxEntryBytes);
    }

    public static CacheConfig inProcess() {
        return new CacheConfig(null, DEFAULT_TTL, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRY_BYTES);
    }
}
