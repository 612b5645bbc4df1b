package ai.autoglm.server.gateway;

import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.security.ApiKey;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

import java.io.IOException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The API keys every replica shares through Redis: one hash {@code autoglm:keys} (field: the key's salted hash, value:
 * its record as in the keys file) and a counter {@code autoglm:keys:version} bumped by every change.
 *
 * <p>Each replica polls the counter every {@value #POLL_MILLIS} ms and reads the hash again when it moved, so a key
 * revoked through any replica is refused by all of them within that period (the issue asks for one second). A poll
 * (GET of one small string) costs Redis next to nothing at that rate; pub/sub would be faster but loses messages
 * across reconnects, and a missed revocation is the one thing that must not happen.
 *
 * <p>The local keys file ({@code autoglm keys create/revoke}, or a Kubernetes Secret) is merged in whenever it
 * changes: keys Redis does not know are added, and a revocation in the file is applied. Nothing un-revokes: a
 * revoked record in Redis stays revoked whatever a file says (both merges are Lua scripts, atomic in Redis).
 *
 * <p>Fails closed: when the shared keys have not been read for {@value #STALE_MILLIS} ms and Redis cannot be reached
 * now, requests that need a key get 503 rather than being judged on a view that may miss a revocation.
 */
public final class RedisKeyRing implements KeyLookup, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RedisKeyRing.class.getName());
    static final String HASH = "autoglm:keys";
    static final String VERSION = "autoglm:keys:version";
    static final long POLL_MILLIS = 200;
    static final long STALE_MILLIS = 1000;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Adds a key Redis does not know; applies a revocation; never un-revokes. */
    private static final String MERGE = """
            local cur = redis.call('HGET', KEYS[1], ARGV[1])
            if not cur then
              redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('INCR', KEYS[2]); return 1
            end
            if ARGV[3] == '1' then
              local r = cjson.decode(cur)['revoked']
              if r == nil or r == cjson.null then
                redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('INCR', KEYS[2]); return 1
              end
            end
            return 0
            """;
    /** Revokes every active record with this name; returns how many. */
    private static final String REVOKE = """
            local all = redis.call('HGETALL', KEYS[1]); local n = 0
            for i = 1, #all, 2 do
              local rec = cjson.decode(all[i + 1])
              if rec['name'] == ARGV[1] and (rec['revoked'] == nil or rec['revoked'] == cjson.null) then
                rec['revoked'] = ARGV[2]; redis.call('HSET', KEYS[1], all[i], cjson.encode(rec)); n = n + 1
              end
            end
            if n > 0 then redis.call('INCR', KEYS[2]) end
            return n
            """;

    private record Snapshot(String version, List<ApiKey> keys, long readNanos) {
    }

    private final UnifiedJedis redis;
    private final KeyRing file;
    private final Thread poller;
    private volatile Snapshot current = new Snapshot(null, List.of(), Long.MIN_VALUE);
    private volatile boolean running = true;
    private List<ApiKey> merged;
    private boolean failing;

    /** @param file this server's keys file (merged into the shared keys); its keys count only once in Redis */
    public RedisKeyRing(UnifiedJedis redis, KeyRing file) {
        this.redis = redis;
        this.file = file;
        refreshQuietly();
        this.poller = Thread.ofPlatform().daemon(true).name("autoglm-shared-keys").start(this::poll);
    }

    private void poll() {
        while (running) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            refreshQuietly();
        }
    }

    /** Merges the file if it changed and reads the shared keys if they changed; false when Redis failed. */
    private synchronized boolean refreshQuietly() {
        try {
            List<ApiKey> local = file.keys();
            if (local != merged) {
                for (ApiKey k : local) {
                    redis.eval(MERGE, List.of(HASH, VERSION), List.of(k.hash(), json(k), k.revoked() != null ? "1" : "0"));
                }
                merged = local;
            }
            String version = redis.get(VERSION);
            Snapshot s = current;
            if (version == null || !version.equals(s.version)) {
                current = new Snapshot(version, parse(redis.hgetAll(HASH)), System.nanoTime());
            } else {
                current = new Snapshot(s.version, s.keys, System.nanoTime());
            }
            if (failing) LOG.info("shared keys: Redis reachable again");
            failing = false;
            return true;
        } catch (JedisException | IllegalArgumentException e) {
            if (!failing) LOG.log(Level.SEVERE, "shared keys: cannot read them from Redis; refusing keyed requests (503) once "
                    + STALE_MILLIS + " ms have passed without them: " + e.getMessage());
            failing = true;
            return false;
        }
    }

    /** The current keys, read again now when the last read is too old; 503 when they cannot be. */
    private Snapshot fresh() {
        Snapshot s = current;
        if (System.nanoTime() - s.readNanos <= TimeUnit.MILLISECONDS.toNanos(STALE_MILLIS)) return s;
        if (refreshQuietly()) return current;
        throw new GatewayException(503, "server_error", "key_store_unavailable",
                "The shared key store cannot be reached; retry shortly.", Map.of("Retry-After", "1"));
    }

    @Override
    public boolean required() {
        try {
            return !fresh().keys.isEmpty();
        } catch (GatewayException e) {
            return true; // fail closed: authenticate then answers 503
        }
    }

    /** Constant-time over every key, as {@link KeyRing#authenticate}. */
    @Override
    public ApiKey authenticate(String secret) {
        Snapshot s = fresh();
        if (secret == null) return null;
        ApiKey match = null;
        for (ApiKey k : s.keys) {
            boolean equal = MessageDigest.isEqual(HexFormat.of().parseHex(k.hash()), KeyStore.hash(HexFormat.of().parseHex(k.salt()), secret));
            if (equal) match = k;
        }
        return match != null && match.activeAt(Instant.now()) ? match : null;
    }

    @Override
    public List<ApiKey> keys() {
        return fresh().keys;
    }

    /**
     * Revokes the named key on every replica (they see it at their next poll; this one at once).
     *
     * @return whether an active key had that name
     */
    public boolean revoke(String name) {
        Object n = redis.eval(REVOKE, List.of(HASH, VERSION), List.of(name, Instant.now().toString()));
        refreshQuietly();
        return n instanceof Long l && l > 0;
    }

    static String json(ApiKey k) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", k.name());
        n.put("role", k.role());
        ArrayNode m = n.putArray("models");
        k.models().forEach(m::add);
        n.put("created", k.created() == null ? null : k.created().toString());
        n.put("expires", k.expires() == null ? null : k.expires().toString());
        n.put("revoked", k.revoked() == null ? null : k.revoked().toString());
        n.put("salt", k.salt());
        n.put("hash", k.hash());
        return n.toString();
    }

    /** The records; a damaged one makes the whole read fail (closed), naming it. */
    static List<ApiKey> parse(Map<String, String> records) {
        List<ApiKey> out = new ArrayList<>();
        for (Map.Entry<String, String> e : records.entrySet()) {
            try {
                JsonNode k = MAPPER.readTree(e.getValue());
                List<String> models = new ArrayList<>();
                k.path("models").forEach(x -> models.add(x.asText())); // Lua's cjson writes an empty list as {}
                out.add(new ApiKey(k.get("name").asText(), k.get("role").asText(), models, instant(k, "created"), instant(k, "expires"),
                        instant(k, "revoked"), k.get("salt").asText(), k.get("hash").asText()));
            } catch (IOException | RuntimeException ex) {
                throw new IllegalArgumentException("Redis " + HASH + " field " + e.getKey() + ": not a key record: " + ex.getMessage(), ex);
            }
        }
        out.sort(java.util.Comparator.comparing(ApiKey::name));
        return List.copyOf(out);
    }

    private static Instant instant(JsonNode k, String field) {
        JsonNode v = k.get(field);
        return v == null || v.isNull() ? null : Instant.parse(v.asText());
    }

    @Override
    public void close() {
        running = false;
        poller.interrupt();
    }
}
