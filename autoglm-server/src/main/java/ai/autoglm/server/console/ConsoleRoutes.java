package ai.autoglm.server.console;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The web console's static files: {@code /} is the page, {@code /console/...} its script, style and vendored
 * libraries, read from the jar (no Node.js at run time). Only the files listed here are served, each under a strict
 * Content-Security-Policy: scripts and styles from this origin only, no inline script, no eval, no framing, no
 * plugins, requests only to this origin. The page itself is public (it holds no data); everything it shows comes
 * from the API, which the gateway guards with the same keys and roles as any client.
 */
public final class ConsoleRoutes {
    /** The CSP of every console response; see the class comment. */
    public static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final String ROOT = "/ai/autoglm/server/console/";
    private static final Map<String, String> FILES = new LinkedHashMap<>();

    static {
        FILES.put("index.html", "text/html; charset=utf-8");
        FILES.put("app.js", "text/javascript; charset=utf-8");
        FILES.put("app.css", "text/css; charset=utf-8");
        FILES.put("vendor/marked.umd.js", "text/javascript; charset=utf-8");
        FILES.put("vendor/purify.min.js", "text/javascript; charset=utf-8");
        FILES.put("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8");
        FILES.put("vendor/uPlot.min.css", "text/css; charset=utf-8");
    }

    private final Map<String, byte[]> content = new LinkedHashMap<>();

    /** Reads every file once; a missing one is a packaging error, reported at start rather than as a 404 later. */
    public ConsoleRoutes() {
        for (String name : FILES.keySet()) {
            try (InputStream in = ConsoleRoutes.class.getResourceAsStream(ROOT + name)) {
                if (in == null) throw new IllegalStateException("console file " + ROOT + name + " is missing from the jar");
                content.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Adds {@code GET /} and {@code GET /console/*}; register before any catch-all route. */
    public void register(HttpRouting.Builder routing) {
        routing.get("/", (req, res) -> send(res, "index.html"))
                .get("/console", (req, res) -> redirect(res))
                .get("/console/*", this::file);
    }

    private void file(ServerRequest req, ServerResponse res) {
        String name = req.path().path().substring("/console/".length());
        if (name.isEmpty()) name = "index.html";
        if (!FILES.containsKey(name)) {
            res.status(Status.NOT_FOUND_404).header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8").send("no such console file");
            return;
        }
        send(res, name);
    }

    private void send(ServerResponse res, String name) {
        res.header(HeaderNames.CONTENT_TYPE, FILES.get(name))
                .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer")
                .header(HeaderNames.CACHE_CONTROL, "no-cache")
                .send(content.get(name));
    }

    private static void redirect(ServerResponse res) {
        res.status(Status.MOVED_PERMANENTLY_301).header(HeaderNames.LOCATION, "/console/").send();
    }
}
