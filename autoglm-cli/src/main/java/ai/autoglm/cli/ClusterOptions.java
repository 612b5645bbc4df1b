package ai.autoglm.cli;

import ai.autoglm.server.config.ClusterConfig;
import ai.autoglm.server.config.ClusterConfigFile;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** {@code autoglm serve}'s replica flags; they override the config file's {@code cluster:} section. */
final class ClusterOptions {
    @Option(names = "--redis", paramLabel = "URL", description = "redis://host:port[/db]: share API keys, revocations, rate limits and "
            + "quotas with the other replicas through this Redis (default: none, this server keeps them).")
    String redis;

    @Option(names = "--replica-id", paramLabel = "ID", description = "Names this replica's audit chain (audit/ID/); with --redis "
            + "the default is $AUTOGLM_REPLICA_ID, then the host name.")
    String replicaId;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", description = "On SIGTERM, how long running requests may take before "
            + "their answers are ended with finish_reason \"shutdown\" (default 30).")
    Integer shutdownGrace;

    ClusterConfig resolve(Path configFile) {
        ClusterConfig c = configFile != null ? ClusterConfigFile.read(configFile) : ClusterConfig.SINGLE;
        if (redis != null) c = c.withRedis(redis);
        if (replicaId != null) c = c.withReplicaId(replicaId);
        if (shutdownGrace != null) {
            if (shutdownGrace < 0) throw new IllegalArgumentException("--shutdown-grace must be 0 or more seconds, got " + shutdownGrace);
            c = c.withShutdownGrace(Duration.ofSeconds(shutdownGrace));
        }
        return c;
    }
}
