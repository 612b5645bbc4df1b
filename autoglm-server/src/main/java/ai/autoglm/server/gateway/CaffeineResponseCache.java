package ai.autoglm.server.gateway;

import ai.autoglm.server.config.CacheConfig;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.Optional;

/** The in-process cache: Caffeine, bounded by the stored bytes (W-TinyLFU eviction) and expiring after the TTL. */
final class CaffeineResponseCache implements ResponseCache {
    private final Cache<String, CachedResponse> cache;
    private final long maxEntryBytes;

    CaffeineResponseCache(CacheConfig config) {
        this.maxEntryBytes = config.maxEntryBytes();
        this.cache = Caffeine.newBuilder()
                .maximumWeight(config.maxBytes())
                .weigher((String k, CachedResponse v) -> v.weight() + k.length())
                .expireAfterWrite(config.ttl())
                .build();
    }

    @Override
    public Optional<CachedResponse> get(String key) {
        return Optional.ofNullable(cache.getIfPresent(key));
    }

    @Override
    public void put(String key, CachedResponse response) {
        if (response.body().length <= maxEntryBytes) cache.put(key, response);
    }

    @Override
    public void close() {
        cache.invalidateAll();
    }
}
