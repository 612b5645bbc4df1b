package ai.autoglm.server;

import ai.autoglm.server.metrics.ServerMetrics;
import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.server.api.ClientConnections;
import ai.autoglm.server.api.OpenAiApi;
import ai.autoglm.server.api.UnsupportedHttpVersions;
import ai.autoglm.server.config.ClusterConfig;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.console.ConsoleRoutes;
import ai.autoglm.server.gateway.Gateway;
import ai.autoglm.server.config.SecurityConfig;
import ai.autoglm.server.gateway.SharedState;
import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import io.helidon.common.tls.Tls;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http1.Http1Config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The OpenAI-compatible server: Helidon SE's web server (one virtual thread per request) in front of the model
 * registry, whose schedulers run the engine. {@link #start} binds; {@link #close} stops accepting, fails what is
 * still running and unloads the models.
 */
public final class AutoglmServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AutoglmServer.class.getName());
    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ModelRegistry registry;
    private final OpenAiApi api;
    private final Gateway gateway;
    private final WebServer web;
    private final ScheduledExecutorService reaper;
    private final ClusterConfig cluster;
    private final Lifecycle lifecycle;

    private AutoglmServer(ServerConfig config, ClusterConfig cluster) {
        this.config = config;
        this.cluster = cluster;
        this.registry = new ModelRegistry(config, metrics);
        this.lifecycle = new Lifecycle(registry);
        this.gateway = new Gateway(config.security(), SharedState.of(cluster));
        this.api = new OpenAiApi(registry, config, metrics, gateway);
        SecurityConfig sec = config.security();
        WebServerConfig.Builder builder = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                // the request line stays under the limit (414 otherwise); headers over max-header-bytes get 431 from the
                // route (HttpExchange.checkHeadSize): Helidon's own limit, which can only answer an empty 400, is set
                // above it (HELIDON_HEAD_FACTOR times, at least 128 KiB) and only bounds the memory a client can make a
                // connection hold. The receive listener lets a non-streamed request notice that its client
                // disconnected (see ClientConnections).
                .addProtocol(Http1Config.builder().maxPrologueLength(Math.min(sec.maxHeaderBytes(), 8192))
                        .maxHeadersSize(helidonHeadLimit(sec.maxHeaderBytes()))
                        .addReceiveListener(ClientConnections.listener()).build())
                .addConnectionSelector(new UnsupportedHttpVersions())
                .routing(routing -> {
                    lifecycle.register(routing);
                    if (config.console()) new ConsoleRoutes().register(routing); // off: / falls to the 404 route
                    api.register(routing);
                });
        if (sec.tls() != null) builder.tls(tls(sec.tls()));
        this.web = builder.build();
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true).name("autoglm-keep-alive").unstarted(r));
    }

    /** Helidon's hard limit on a request's headers: above it, Helidon answers an empty 400 instead of our 431. */
    static int helidonHeadLimit(int maxHeaderBytes) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(4L * maxHeaderBytes, 128 * 1024));
    }

    /** TLS from PEM files (Helidon reads PKCS#8 keys and X.509 chains). */
    private static Tls tls(SecurityConfig.Tls files) {
        for (var f : java.util.List.of(files.certificate(), files.privateKey())) {
            if (!Files.isReadable(f)) throw new IllegalArgumentException("security.tls: " + f + ": no such readable file");
        }
        try {
            Keys keys = Keys.builder().pem(p -> p.key(Resource.create(files.privateKey())).certChain(Resource.create(files.certificate()))).build();
            return Tls.builder().privateKey(keys).privateKeyCertChain(keys).build();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("security.tls: cannot use " + files.certificate() + " and " + files.privateKey()
                    + " (expected a PEM certificate and an unencrypted PKCS#8 PEM key): " + e.getMessage(), e);
        }
    }

    /** Binds and serves; models load on their first request. */
    public static AutoglmServer start(ServerConfig config) {
        return start(config, ClusterConfig.SINGLE);
    }

    /** Binds and serves as one replica of several ({@code cluster:} in the config file). */
    public static AutoglmServer start(ServerConfig config, ClusterConfig cluster) {
        AutoglmServer server = new AutoglmServer(config, cluster);
        if (!isLoopback(config.host()) && !server.gateway.keysRequired()) {
            LOG.warning("listening on " + config.host() + " without API keys: anyone who can reach this address may use the models;"
                    + " create a key with 'autoglm keys create' or bind to 127.0.0.1");
        }
        server.web.start();
        if (server.web.port() < 0) {
            // Helidon logs a failed bind and reports port -1 instead of throwing (4.5): say so, and stop
            server.close();
            throw new IllegalArgumentException("cannot listen on " + config.host() + ":" + config.port()
                    + ": the port is in use (or the address is not one of this machine's); choose another with --port");
        }
        server.reaper.scheduleWithFixedDelay(server.registry::unloadIdle, 1, 1, TimeUnit.SECONDS);
        return server;
    }

    /** The bound port (the chosen one when the config said 0). */
    public int port() {
        return web.port();
    }

    /** Whether {@code host} only reaches this machine (unresolvable names count as not). */
    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Whether the server speaks HTTPS. */
    public boolean tls() {
        return config.security().tls() != null;
    }

    public ServerConfig config() {
        return config;
    }

    public ModelRegistry registry() {
        return registry;
    }

    /** Liveness, readiness and draining. */
    public Lifecycle lifecycle() {
        return lifecycle;
    }

    public ClusterConfig cluster() {
        return cluster;
    }

    /**
     * The graceful half of a shutdown (SIGTERM): stop taking requests (readiness and {@code /health} say draining, new
     * requests get 503), let the running ones finish within the configured grace period, end the rest's generations
     * with finish reason {@code shutdown}. {@link #close} then flushes the audit trail and stops.
     *
     * @return whether every request finished within the grace period
     */
    public boolean drain() {
        return lifecycle.drain(cluster.shutdownGrace(), java.time.Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        reaper.shutdownNow();
        registry.close();
        web.stop();
        api.close();
        gateway.close();
    }
}
