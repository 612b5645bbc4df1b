package ai.autoglm.client;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

import java.time.Duration;
import java.util.Objects;

/**
 * Builds a hybrid client (see {@link AutoGLMClient#hybrid()}): requests go to the server while it works; a connection
 * error, a timeout, a 429 or a 5xx is answered by the local model instead, and opens a Resilience4j circuit breaker,
 * so the following requests go straight to the local model while the server is down. A background probe
 * ({@code GET /v1/models} every {@link #probeInterval}) half-opens the breaker when the server answers again; the
 * next request then tries the server and, if it answers, closes the breaker. 401, 403 and other 4xx answers are the
 * caller's to fix and are thrown, never answered locally. A stream that breaks after its first piece ends with
 * {@link StreamInterruptedException}, or is continued locally ({@link #restartBrokenStreamsLocally}). Forced offline mode ({@link #forceOffline}, or the environment variable
 * {@code AUTOGLM_OFFLINE=1} or {@code HF_HUB_OFFLINE=1}) never opens a connection.
 */
public final class HybridBuilder {
    private RemoteBuilder remote;
    private InProcessBuilder local;
    private Duration probeInterval = Duration.ofSeconds(5);
    private boolean forceOffline = envOffline();
    private CircuitBreakerConfig breaker;
    private boolean restartStreams;

    HybridBuilder() {
    }

    static boolean envOffline() {
        for (String v : new String[]{"AUTOGLM_OFFLINE", "HF_HUB_OFFLINE"}) {
            String s = System.getenv(v);
            if (s != null && (s.equals("1") || s.equalsIgnoreCase("true") || s.equalsIgnoreCase("yes") || s.equalsIgnoreCase("on"))) return true;
        }
        return false;
    }

    /** The server. */
    public HybridBuilder remote(RemoteBuilder r) {
        this.remote = Objects.requireNonNull(r);
        return this;
    }

    /** The fallback model. */
    public HybridBuilder local(InProcessBuilder l) {
        this.local = Objects.requireNonNull(l);
        return this;
    }

    /** How often a server marked down is asked whether it is back (default 5 s). */
    public HybridBuilder probeInterval(Duration d) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("probe interval must be positive");
        this.probeInterval = d;
        return this;
    }

    /** Answer everything locally and never touch the network (default: from AUTOGLM_OFFLINE / HF_HUB_OFFLINE). */
    public HybridBuilder forceOffline(boolean force) {
        this.forceOffline = force;
        return this;
    }

    /**
     * When a server's stream breaks half way, let the local model continue the answer from the text received so far
     * (appended after its generation prompt) instead of throwing {@link StreamInterruptedException}; the response's
     * route says so. Not done for requests with tools (their text before a call is withheld). Default false: a
     * caller that has shown half an answer usually wants to know.
     */
    public HybridBuilder restartBrokenStreamsLocally(boolean restart) {
        this.restartStreams = restart;
        return this;
    }

    /**
     * The breaker's policy instead of the default (the first failure opens it). Its {@code recordException} is
     * replaced: only {@link ServerUnavailableException} counts as the server failing.
     */
    public HybridBuilder circuitBreaker(CircuitBreakerConfig config) {
        this.breaker = config;
        return this;
    }

    /**
     * Loads the local model and, unless offline, prepares the server's client (no connection is opened here).
     *
     * @throws InvalidEndpointException   for a malformed server URL (checked even when offline)
     * @throws ModelFileNotFoundException when the local model is missing
     */
    public AutoGLMClient build() {
        if (remote == null) throw new IllegalStateException("a hybrid client needs remote(...)");
        if (local == null) throw new IllegalStateException("a hybrid client needs local(...)");
        var endpoint = remote.endpoint(); // a bad URL fails even when offline: it is a configuration error
        InProcessClient l = local.open();
        try {
            return new HybridClient(forceOffline ? null : remote.open(), endpoint, l, probeInterval, breaker, restartStreams);
        } catch (RuntimeException e) {
            l.close();
            throw e;
        }
    }
}
