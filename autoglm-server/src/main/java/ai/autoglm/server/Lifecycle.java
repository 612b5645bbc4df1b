package ai.autoglm.server;

import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.server.gateway.GatewayException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The server's life as a load balancer and Kubernetes see it: liveness ({@code /health/live}: the process answers),
 * readiness ({@code /health/ready}: the default model is loaded, and the server is not draining) and draining (after
 * SIGTERM: new requests get 503 so that nginx retries them on another replica and marks this one down, while the
 * requests already running finish). Kubernetes' own guidance is to keep the two probes apart: a slow model load must
 * not get the pod restarted, and a draining pod must leave the Service without being killed.
 *
 * <p>Readiness loads the model on the first probe (in the background; 503 {@code loading} until it is in memory),
 * since the server otherwise loads a model on its first request.
 */
public final class Lifecycle {
    private static final Logger LOG = Logger.getLogger(Lifecycle.class.getName());
    private static final ObjectMapper MAPPER = new ObjectMapper();
    public static final String LIVE = "/health/live";
    public static final String READY = "/health/ready";
    public static final String HEALTH = "/health";

    private final ModelRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean warming = new AtomicBoolean();
    private volatile boolean draining;
    private volatile boolean warm;
    private volatile String warmFailure;

    Lifecycle(ModelRegistry registry) {
        this.registry = registry;
    }

    /** The draining filter (before every route) and the two probes. */
    void register(HttpRouting.Builder routing) {
        routing.addFilter(this::filter)
                .get(LIVE, (req, res) -> send(res, 200, status("ok")))
                .get(READY, (req, res) -> ready(res));
    }

    private void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (path.startsWith(HEALTH) || path.equals("/metrics")) {
            // probes and scrapes stay open while draining; /health itself says so
            if (draining && path.equals(HEALTH)) send(res, 503, status("draining"));
            else chain.proceed();
            return;
        }
        inFlight.incrementAndGet(); // before the check: drain() never misses a request that got past it
        try {
            if (draining) {
                res.header("Retry-After", "1");
                res.header("Connection", "close");
                ObjectNode err = MAPPER.createObjectNode();
                ObjectNode e = err.putObject("error");
                e.put("message", "This server is shutting down; retry (another replica will answer).");
                e.put("type", "server_error");
                e.putNull("param");
                e.put("code", "server_draining");
                send(res, 503, err);
                return;
            }
            chain.proceed();
        } finally {
            if (inFlight.decrementAndGet() == 0) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }
    }

    private void ready(ServerResponse res) {
        if (draining) {
            send(res, 503, status("draining"));
        } else if (warm) {
            send(res, 200, status("ready"));
        } else {
            warmUp();
            ObjectNode s = status(warmFailure == null ? "loading" : "failed");
            if (warmFailure != null) s.put("reason", warmFailure);
            send(res, 503, s);
        }
    }

    /** Loads the default model in the background unless that is under way or done. */
    public void warmUp() {
        if (warm || !warming.compareAndSet(false, true)) return;
        Thread.ofVirtual().name("autoglm-warm-up").start(() -> {
            try {
                registry.warmUp();
                warm = true;
                warmFailure = null;
                LOG.info("ready: the default model is loaded");
            } catch (GatewayException e) {
                warmFailure = e.getMessage(); // the registry logged it once; the next probe tries again (cheap while it stays broken)
            } finally {
                warming.set(false);
            }
        });
    }

    public boolean ready() {
        return warm && !draining;
    }

    public boolean draining() {
        return draining;
    }

    /** Requests running now (probes and scrapes not counted). */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Stops taking requests and waits for the running ones, at most {@code grace}; then ends every generation that is
     * still running (its client gets finish reason {@code shutdown} and its usage) and waits for those answers to go
     * out, at most {@code tail}.
     *
     * @return whether every request finished within the grace period
     */
    public boolean drain(Duration grace, Duration tail) {
        draining = true;
        LOG.info(() -> "draining: " + inFlight.get() + " request(s) running; waiting up to " + grace.toSeconds() + " s");
        if (awaitIdle(grace)) return true;
        LOG.warning(inFlight.get() + " request(s) still running after the " + grace.toSeconds() + " s grace period: ending their generations");
        registry.endAllGenerations();
        if (!awaitIdle(tail)) LOG.warning(inFlight.get() + " request(s) did not end within " + tail.toSeconds() + " s more");
        return false;
    }

    private synchronized boolean awaitIdle(Duration limit) {
        long end = System.nanoTime() + limit.toNanos();
        while (inFlight.get() > 0) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static ObjectNode status(String s) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("status", s);
        return n;
    }

    private static void send(ServerResponse res, int status, ObjectNode body) {
        res.status(status);
        res.header("Content-Type", "application/json");
        res.header("Cache-Control", "no-store");
        res.send(body.toString().getBytes(StandardCharsets.UTF_8));
    }
}
