package ai.autoglm.server.config;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.server.config.SecurityConfig;

import java.time.Duration;
import java.util.List;

/**
 * Everything {@code autoglm serve} needs.
 *
 * @param host           address to bind (default 127.0.0.1: only this machine)
 * @param port           TCP port (0 picks a free one)
 * @param maxBodyBytes   larger request bodies get 413
 * @param queueSize      requests that may wait for a slot, per model, before 429
 * @param requestTimeout the most time a request may take from arrival to its last token
 * @param prefillBudget  prompt tokens run per engine step (bounds how long one long prompt delays the others)
 * @param models         the models offered; the first is used when a request names none
 * @param filters        response cache, PII filter and trusted model-signing keys
 * @param security       the gateway: data directory, keys, roles, limits, audit trail, TLS, CORS
 * @param memoryBudget   what {@code quantize: auto} may use per model, or null for the machine's MemAvailable minus a margin
 * @param console        whether {@code /} serves the web console ({@code serve --no-console}, {@code server.console: false})
 */
public record ServerConfig(String host, int port, long maxBodyBytes, int queueSize, Duration requestTimeout,
                           int prefillBudget, List<ModelSpec> models, GatewayFilters filters, SecurityConfig security,
                           MemoryBudget memoryBudget, boolean console) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8000;
    public static final long DEFAULT_MAX_BODY = 8L << 20;
    public static final int DEFAULT_QUEUE = 64;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    public static final int DEFAULT_PREFILL_BUDGET = 256;

    public ServerConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max-body-bytes must be positive, got " + maxBodyBytes);
        if (queueSize < 0) throw new IllegalArgumentException("queue-size must be >= 0, got " + queueSize);
        if (requestTimeout.isNegative() || requestTimeout.isZero()) throw new IllegalArgumentException("request-timeout must be positive");
        if (prefillBudget < 1) throw new IllegalArgumentException("prefill-budget must be at least 1, got " + prefillBudget);
        models = List.copyOf(models);
        if (models.isEmpty()) throw new IllegalArgumentException("no model to serve: give --model or list models in the config file");
        if (models.stream().map(ModelSpec::alias).distinct().count() != models.size()) {
            throw new IllegalArgumentException("model aliases must be unique");
        }
        if (filters == null) filters = GatewayFilters.NONE;
        if (security == null) security = SecurityConfig.none();
    }

    /**
     * No gateway filters, no gateway state (no data directory, so no keys and no audit trail), the machine's memory
     * budget: tests and embedding; add the rest with the {@code with...} methods.
     */
    public ServerConfig(String host, int port, long maxBodyBytes, int queueSize, Duration requestTimeout, int prefillBudget,
                        List<ModelSpec> models) {
        this(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, GatewayFilters.NONE, SecurityConfig.none(), null);
    }

    /** Gateway filters only. */
    public ServerConfig(String host, int port, long maxBodyBytes, int queueSize, Duration requestTimeout, int prefillBudget,
                        List<ModelSpec> models, GatewayFilters filters) {
        this(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, SecurityConfig.none(), null);
    }

    /** Security only. */
    public ServerConfig(String host, int port, long maxBodyBytes, int queueSize, Duration requestTimeout, int prefillBudget,
                        List<ModelSpec> models, SecurityConfig security) {
        this(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, GatewayFilters.NONE, security, null);
    }

    /** One model, every setting at its default. */
    /** The ten settings before the console switch, with the console on. */
    public ServerConfig(String host, int port, long maxBodyBytes, int queueSize, Duration requestTimeout, int prefillBudget,
                        List<ModelSpec> models, GatewayFilters filters, SecurityConfig security, MemoryBudget memoryBudget) {
        this(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, security, memoryBudget, true);
    }

    public static ServerConfig single(ModelSpec model) {
        return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_BODY, DEFAULT_QUEUE, DEFAULT_TIMEOUT,
                DEFAULT_PREFILL_BUDGET, List.of(model));
    }

    public ServerConfig withAddress(String host, int port) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, security, memoryBudget, console);
    }

    public ServerConfig withQueueSize(int q) {
        return new ServerConfig(host, port, maxBodyBytes, q, requestTimeout, prefillBudget, models, filters, security, memoryBudget, console);
    }

    public ServerConfig withRequestTimeout(Duration t) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, t, prefillBudget, models, filters, security, memoryBudget, console);
    }

    public ServerConfig withFilters(GatewayFilters f) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, f, security, memoryBudget, console);
    }

    public ServerConfig withSecurity(SecurityConfig s) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, s, memoryBudget, console);
    }

    public ServerConfig withModels(List<ModelSpec> m) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, m, filters, security, memoryBudget, console);
    }

    public ServerConfig withConsole(boolean on) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, security, memoryBudget, on);
    }

    public ServerConfig withMemoryBudget(MemoryBudget b) {
        return new ServerConfig(host, port, maxBodyBytes, queueSize, requestTimeout, prefillBudget, models, filters, security, b, console);
    }
}
