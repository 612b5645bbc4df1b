package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.SecurityConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A real {@code autoglm serve} (the server class the CLI starts) on a loopback port, serving the bundled model. */
public final class TestServers {
    public static final String ALIAS = "autoglm-default";

    private TestServers() {
    }

    /** The bundled model served as {@link #ALIAS}, plus {@code extra} models, on {@code port} (0: a free one). */
    public static AutoglmServer start(int port, List<ModelSpec> extra) {
        return AutoglmServer.start(config(port, extra));
    }

    public static ServerConfig config(int port, List<ModelSpec> extra) {
        List<ModelSpec> models = new java.util.ArrayList<>();
        models.add(new ModelSpec(ALIAS, BundledModel.path(), null, 2, null, null));
        models.addAll(extra);
        return new ServerConfig("127.0.0.1", port, 1 << 20, 64, Duration.ofMinutes(2), 256, models);
    }

    public static AutoglmServer start(int port) {
        return start(port, List.of());
    }

    /** With the gateway on: keys required, data under {@code home}. */
    public static AutoglmServer startSecured(Path home) {
        return AutoglmServer.start(config(0, List.of()).withSecurity(SecurityConfig.defaults(home)));
    }

    public static String url(AutoglmServer s) {
        return "http://127.0.0.1:" + s.port();
    }

    public static RemoteBuilder remote(AutoglmServer s) {
        return AutoGLMClient.remote().baseUrl(url(s)).model(ALIAS);
    }
}
