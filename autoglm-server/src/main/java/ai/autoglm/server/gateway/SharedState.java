package ai.autoglm.server.gateway;

import ai.autoglm.server.config.ClusterConfig;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.distributed.serialization.Mapper;
import io.github.bucket4j.redis.jedis.Bucket4jJedis;
import redis.clients.jedis.JedisPooled;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What replicas share through Redis (one Jedis pool): the API keys and their revocations ({@link RedisKeyRing}) and
 * the rate-limit and quota buckets (Bucket4j's Jedis proxy manager, compare-and-swap based); and what each keeps as
 * its own: the audit chain, in {@code audit/<replica-id>/}. The response cache has its own Redis setting
 * ({@code cache.redis}).
 */
public final class SharedState implements AutoCloseable {
    private final JedisPooled redis;
    private final String replicaId;
    private final ProxyManager<String> buckets;
    private RedisKeyRing keys;

    private SharedState(JedisPooled redis, String replicaId) {
        this.redis = redis;
        this.replicaId = replicaId;
        // a bucket unused for the time it takes to refill completely is full anyway: Redis may forget it
        this.buckets = redis == null ? null : Bucket4jJedis.casBasedBuilder(redis).keyMapper(Mapper.STRING)
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                .build();
    }

    /** The shared state {@code config} asks for, or null for a single server keeping everything itself. */
    public static SharedState of(ClusterConfig config) {
        if (config == null || (!config.shared() && config.replicaId() == null)) return null;
        return new SharedState(config.shared() ? new JedisPooled(URI.create(config.redisUrl())) : null, config.effectiveReplicaId());
    }

    /** The keys: shared through Redis (merging the keys file in), or the keys file alone without Redis. */
    synchronized KeyLookup keys(Path keysFile) {
        KeyRing file = new KeyRing(keysFile);
        if (redis == null) return file;
        if (keys == null) keys = new RedisKeyRing(redis, file);
        return keys;
    }

    /** Bucket4j's buckets in Redis, or null without Redis. */
    ProxyManager<String> buckets() {
        return buckets;
    }

    /** This replica's audit directory under the configured one. */
    Path auditDirectory(Path configured) {
        return replicaId == null ? configured : configured.resolve(replicaId);
    }

    public String replicaId() {
        return replicaId;
    }

    @Override
    public synchronized void close() {
        if (keys != null) keys.close();
        if (redis != null) redis.close();
    }
}
