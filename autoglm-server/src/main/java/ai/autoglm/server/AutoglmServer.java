package ai.autoglm.server;

import ai.autoglm.server.api.ClientConnections;
import ai.autoglm.server.api.OpenAiApi;
import ai.autoglm.server.config.ServerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The OpenAI-compatible server: Helidon SE's web server (one virtual thread per request) in front of the model
 * registry, whose schedulers run the engine. {@link #start} binds; {@link #close} stops accepting, fails what is
 * still running and unloads the models.
 */
public final class AutoglmServer implements AutoCloseable {
    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ModelRegistry registry;
    private final OpenAiApi api;
    private final WebServer web;
    private final ScheduledExecutorService reaper;

    private AutoglmServer(ServerConfig config) {
        this.config = config;
        this.registry = new ModelRegistry(config, metrics);
        this.api = new OpenAiApi(registry, config, metrics);
        this.web = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                // lets a non-streamed request notice that its client disconnected (see ClientConnections)
                .addProtocol(Http1Config.builder().addReceiveListener(ClientConnections.listener()).build())
                .routing(api::register)
                .build();
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true).name("autoglm-keep-alive").unstarted(r));
    }

    /** Binds and serves; models load on their first request. */
    public static AutoglmServer start(ServerConfig config) {
        AutoglmServer server = new AutoglmServer(config);
        server.web.start();
        server.reaper.scheduleWithFixedDelay(server.registry::unloadIdle, 1, 1, TimeUnit.SECONDS);
        return server;
    }

    /** The bound port (the chosen one when the config said 0). */
    public int port() {
        return web.port();
    }

    public ServerConfig config() {
        return config;
    }

    public ModelRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        reaper.shutdownNow();
        registry.close();
        web.stop();
        api.close();
    }
}
