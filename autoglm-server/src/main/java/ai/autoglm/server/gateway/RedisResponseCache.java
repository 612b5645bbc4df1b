package ai.autoglm.server.gateway;

import ai.autoglm.server.config.CacheConfig;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.SetParams;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The cache shared by several servers through Redis (Jedis' pooled client): one binary key per answer,
 * {@code autoglm:cache:<key>}, written with {@code SET ... PX ttl} so Redis expires it; the total size is Redis'
 * own {@code maxmemory} policy. Redis being down never fails a request: the error is logged and the request is
 * answered by the model, as on a miss.
 */
final class RedisResponseCache implements ResponseCache {
    private static final Logger LOG = Logger.getLogger(RedisResponseCache.class.getName());
    static final String PREFIX = "autoglm:cache:";

    private final JedisPooled redis;
    private final long ttlMillis;
    private final long maxEntryBytes;

    RedisResponseCache(CacheConfig config) {
        this.redis = new JedisPooled(URI.create(config.redisUrl()));
        this.ttlMillis = config.ttl().toMillis();
        this.maxEntryBytes = config.maxEntryBytes();
    }

    @Override
    public Optional<CachedResponse> get(String key) {
        try {
            return Optional.ofNullable(CachedResponse.decode(redis.get(bytes(key))));
        } catch (JedisException e) {
            LOG.log(Level.WARNING, "response cache: Redis read failed; answering without the cache", e);
            return Optional.empty();
        }
    }

    @Override
    public void put(String key, CachedResponse response) {
        if (response.body().length > maxEntryBytes) return;
        try {
            redis.set(bytes(key), response.encode(), SetParams.setParams().px(ttlMillis));
        } catch (JedisException e) {
            LOG.log(Level.WARNING, "response cache: Redis write failed; the answer is not cached", e);
        }
    }

    private static byte[] bytes(String key) {
        return (PREFIX + key).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        redis.close();
    }
}
