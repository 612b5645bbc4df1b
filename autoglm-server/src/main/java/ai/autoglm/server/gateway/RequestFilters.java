package ai.autoglm.server.gateway;

import ai.autoglm.server.config.GatewayFilters;

/** The per-request gateway filters of a running server: the response cache and the PII filter (each null when off). */
public final class RequestFilters implements AutoCloseable {
    private final ResponseCache cache;
    private final PiiFilter pii;

    public RequestFilters(GatewayFilters config) {
        this.pii = config.pii() == null ? null : new PiiFilter(config.pii());
        this.cache = config.cache() == null ? null : ResponseCache.of(config.cache());
    }

    public ResponseCache cache() {
        return cache;
    }

    public PiiFilter pii() {
        return pii;
    }

    /** The settings that change what an answer looks like, for the cache key. */
    public String fingerprint() {
        return pii == null ? "no-filters" : pii.fingerprint();
    }

    @Override
    public void close() {
        if (cache != null) cache.close();
    }
}
