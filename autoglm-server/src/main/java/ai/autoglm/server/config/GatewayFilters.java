package ai.autoglm.server.config;

/**
 * The gateway's request and model filters: the response cache (null: off), the PII filter (null: off) and the
 * trusted model-signing keys.
 */
public record GatewayFilters(CacheConfig cache, PiiConfig pii, TrustConfig trust) {
    public static final GatewayFilters NONE = new GatewayFilters(null, null, TrustConfig.NONE);

    public GatewayFilters {
        if (trust == null) trust = TrustConfig.NONE;
    }

    public GatewayFilters withCache(CacheConfig c) {
        return new GatewayFilters(c, pii, trust);
    }

    public GatewayFilters withPii(PiiConfig p) {
        return new GatewayFilters(cache, p, trust);
    }

    public GatewayFilters withTrust(TrustConfig t) {
        return new GatewayFilters(cache, pii, t);
    }
}
