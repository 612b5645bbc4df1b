package ai.autoglm.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Reads the config file's {@code cluster:} section (every key optional; absent: a single server as before):
 * <pre>
 * cluster:
 *   redis: redis://redis:6379/0   # keys, revocations, rate limits and quotas shared by every replica
 *   replica-id: web-1             # names this replica's audit chain; default $AUTOGLM_REPLICA_ID, then the host name
 *   shutdown-grace: 30s           # on SIGTERM, how long running requests may take before they are ended
 * </pre>
 * Kept apart from {@link ServerConfig} so that a server embedded in a test or an application is unchanged by it.
 */
public final class ClusterConfigFile {
    static final String SECTION = "cluster";
    private static final Set<String> KEYS = Set.of("redis", "replica-id", "shutdown-grace");

    private ClusterConfigFile() {
    }

    public static ClusterConfig read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the config: " + e.getMessage(), e);
        }
        return root == null ? ClusterConfig.SINGLE : read(file, root.path(SECTION));
    }

    static ClusterConfig read(Path file, JsonNode c) {
        if (c.isMissingNode() || c.isNull()) return ClusterConfig.SINGLE;
        ServerConfigFile.checkKeys(file, SECTION + ".", c, KEYS);
        try {
            return new ClusterConfig(
                    c.has("redis") ? ServerConfigFile.text(file, "cluster.redis", c.get("redis")) : null,
                    c.has("replica-id") ? ServerConfigFile.text(file, "cluster.replica-id", c.get("replica-id")) : null,
                    c.has("shutdown-grace") ? grace(file, c.get("shutdown-grace")) : ClusterConfig.DEFAULT_SHUTDOWN_GRACE);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith(file.toString()) ? e.getMessage() : file + ": " + e.getMessage(), e);
        }
    }

    private static java.time.Duration grace(Path file, JsonNode v) {
        java.time.Duration d = ServerConfigFile.duration(file, "cluster.shutdown-grace", v);
        if (d == null) throw new IllegalArgumentException(file + ": 'cluster.shutdown-grace' must be a duration like 30s, not forever");
        return d;
    }
}
