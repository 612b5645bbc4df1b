package ai.autoglm.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How one server takes part in a group of replicas (YAML {@code cluster:}, see {@link ClusterConfigFile}).
 *
 * @param redisUrl      {@code redis://host:port[/db]} holding the state every replica must agree on (API keys and
 *                      their revocations, rate-limit and quota buckets), or null: this server keeps them itself, as a
 *                      single server always did
 * @param replicaId     names this replica's audit chain ({@code audit/<id>/}), or null for the single chain in
 *                      {@code audit/}; with Redis it defaults to {@code $AUTOGLM_REPLICA_ID}, then the host name
 *                      (a Kubernetes pod's name)
 * @param shutdownGrace on SIGTERM, how long requests already running may take to finish before their streams are
 *                      ended with finish reason {@code shutdown}
 */
public record ClusterConfig(String redisUrl, String replicaId, Duration shutdownGrace) {
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);
    public static final ClusterConfig SINGLE = new ClusterConfig(null, null, DEFAULT_SHUTDOWN_GRACE);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public ClusterConfig {
        if (redisUrl != null && !redisUrl.startsWith("redis://")) {
            throw new IllegalArgumentException("cluster.redis must be a redis://host:port[/db] URL, got '" + redisUrl + "'");
        }
        if (replicaId != null && !ID.matcher(replicaId).matches()) {
            throw new IllegalArgumentException("cluster.replica-id is 1-64 letters, digits, '.', '_' or '-' (it names a directory), got '" + replicaId + "'");
        }
        if (shutdownGrace == null || shutdownGrace.isNegative()) throw new IllegalArgumentException("cluster.shutdown-grace must be 0s or more");
    }

    public ClusterConfig withRedis(String url) {
        return new ClusterConfig(url, replicaId, shutdownGrace);
    }

    public ClusterConfig withReplicaId(String id) {
        return new ClusterConfig(redisUrl, id, shutdownGrace);
    }

    public ClusterConfig withShutdownGrace(Duration grace) {
        return new ClusterConfig(redisUrl, replicaId, grace);
    }

    /** Whether state is shared through Redis. */
    public boolean shared() {
        return redisUrl != null;
    }

    /** The replica id to use: the configured one, or with Redis the environment's or the host's name; null for none. */
    public String effectiveReplicaId() {
        if (replicaId != null || redisUrl == null) return replicaId;
        String env = System.getenv("AUTOGLM_REPLICA_ID");
        if (env != null && ID.matcher(env).matches()) return env;
        String host = System.getenv("HOSTNAME");
        if (host == null) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "replica";
            }
        }
        String id = host.replaceAll("[^A-Za-z0-9._-]", "-");
        if (id.isEmpty() || !Character.isLetterOrDigit(id.charAt(0))) id = "r" + id;
        return id.length() > 64 ? id.substring(0, 64) : id;
    }
}
