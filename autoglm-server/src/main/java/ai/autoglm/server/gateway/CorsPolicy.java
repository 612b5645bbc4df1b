package ai.autoglm.server.gateway;

import java.util.List;

/**
 * Cross-origin access for browsers (the Fetch standard's CORS protocol), off unless origins are configured: with
 * none, no CORS header is ever sent and browsers keep pages of other origins from reading any answer. An allowed
 * origin gets {@code Access-Control-Allow-Origin} echoed back (with {@code Vary: Origin}), and its preflight
 * {@code OPTIONS} is answered 204 without a key, as browsers send preflights without credentials.
 */
public final class CorsPolicy {
    static final String ALLOWED_HEADERS = "Authorization, Content-Type, Cache-Control";
    private final List<String> origins;

    public CorsPolicy(List<String> origins) {
        this.origins = List.copyOf(origins);
    }

    public boolean enabled() {
        return !origins.isEmpty();
    }

    boolean allows(String origin) {
        return origin != null && (origins.contains("*") || origins.contains(origin));
    }

    /** Adds the CORS headers the request's origin is entitled to; true when it is a preflight to answer now with 204. */
    public boolean apply(GatewayExchange ex) {
        String origin = ex.header("Origin");
        if (!enabled() || !allows(origin)) return false;
        ex.responseHeader("Access-Control-Allow-Origin", origins.contains("*") ? "*" : origin);
        ex.responseHeader("Vary", "Origin");
        boolean preflight = "OPTIONS".equals(ex.method()) && ex.header("Access-Control-Request-Method") != null;
        if (preflight) {
            ex.responseHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            ex.responseHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
            ex.responseHeader("Access-Control-Max-Age", "600");
        }
        return preflight;
    }
}
