package ai.autoglm.server.gateway;

import ai.autoglm.server.config.CacheConfig;

import java.util.Optional;

/** Answers to repeatable requests, by {@link CacheKeys key}. */
public interface ResponseCache extends AutoCloseable {
    Optional<CachedResponse> get(String key);

    /** Stores the answer unless it is larger than the per-entry limit. */
    void put(String key, CachedResponse response);

    @Override
    void close();

    /** In-process by default; Redis when the config names one. */
    static ResponseCache of(CacheConfig config) {
        return config.redisUrl() != null ? new RedisResponseCache(config) : new CaffeineResponseCache(config);
    }
}
