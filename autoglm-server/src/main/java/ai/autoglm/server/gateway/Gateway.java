package ai.autoglm.server.gateway;

import ai.autoglm.server.config.SecurityConfig;
import ai.autoglm.server.security.Role;
import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.security.AuditLog;
import ai.autoglm.server.security.ApiKey;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The gateway policies in front of every route (run in order by the API's request pipeline, {@code api.Stage}):
 * authentication (API key) → role (route, then model) → rate limit, and at
 * the end of each request the audit record (and the token charge), written before the response's last byte.
 * {@code /health} is always open; every other route needs a key once the keys file holds any.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
    private static final String HEALTH = "/health";

    private final SecurityConfig config;
    private final KeyLookup keys;
    private final Map<String, Role> roles;
    private final RateLimiter limiter;
    private final AuthFailureLimiter authFailures;
    private final AuditLog audit;
    private final CorsPolicy cors;
    private final OpenModeGuard openMode;
    private final SharedState shared;

    public Gateway(SecurityConfig config) {
        this(config, null);
    }

    /**
     * @param shared what replicas share through Redis (keys, revocations, limit buckets) and this replica's own audit
     *               chain; null for a single server keeping them itself. Closed with the gateway.
     */
    public Gateway(SecurityConfig config, SharedState shared) {
        this.config = config;
        this.shared = shared;
        this.keys = shared != null ? shared.keys(config.keysPath()) : new KeyRing(config.keysPath());
        this.roles = Role.withBuiltIns(config.roles());
        this.limiter = new RateLimiter(config.limits(), shared != null ? shared.buckets() : null);
        this.authFailures = new AuthFailureLimiter(config.limits().unauthenticatedPerMinute());
        Path auditDir = config.auditDirectory() == null || shared == null ? config.auditDirectory() : shared.auditDirectory(config.auditDirectory());
        this.audit = auditDir == null ? null : AuditLog.open(auditDir, config.audit().maxFileBytes(), config.audit().retention());
        this.cors = new CorsPolicy(config.corsOrigins());
        this.openMode = new OpenModeGuard(config.allowedHosts());
        try {
            for (ApiKey k : keys.keys()) {
                if (!roles.containsKey(k.role())) LOG.warning("key '" + k.name() + "' has role '" + k.role() + "', which is not defined: it may use nothing");
            }
        } catch (GatewayException e) {
            LOG.warning("the shared keys cannot be read yet: " + e.getMessage()); // requests get 503 until they can
        }
    }

    /**
     * Without keys, refuses what only a browser tricked by another site would send (see {@link OpenModeGuard}): a
     * Host that is not this machine's, a body that is not {@code application/json}. {@code /health} stays open.
     *
     * @throws GatewayException 403 or 415
     */
    public void guardOpenMode(String route, GatewayExchange ex, boolean hasBody) {
        if (route.equals(HEALTH) || keys.required()) return;
        openMode.check(ex, hasBody && !"OPTIONS".equals(ex.method()));
    }

    /** Adds CORS headers; true when the request is a CORS preflight to answer with 204 (and nothing else). */
    public boolean preflight(GatewayExchange ex) {
        return cors.apply(ex);
    }

    /**
     * Authenticates the request; records who it is in {@code ctx}. {@link Principal#OPEN} for {@code /health} and
     * for a server without keys (the later checks then pass it).
     *
     * @throws GatewayException 401, or 429 for a client address past its failed authentications per minute
     */
    public Principal authenticate(String route, GatewayExchange ex, RequestContext ctx) {
        if (route.equals(HEALTH) || !keys.required()) return Principal.OPEN;
        ApiKey key = keys.authenticate(bearer(ex.header("Authorization")));
        if (key == null) {
            String address = ex.clientAddress();
            switch (authFailures.failure(address)) {
                case AUDIT -> throw GatewayException.unauthenticated();
                case THROTTLE_AUDIT -> throw GatewayException.rateLimited("failed authentications from this address",
                        authFailures.retryAfterSeconds(address));
                case THROTTLE_SILENT -> {
                    ctx.skipAudit();
                    throw GatewayException.rateLimited("failed authentications from this address", authFailures.retryAfterSeconds(address));
                }
            }
        }
        Role role = roles.getOrDefault(key.role(), new Role(key.role(), Set.of(), Set.of()));
        ctx.authenticated(key.name(), key.role());
        return new Principal(key, role);
    }

    /** @throws GatewayException 403 when the key's role may not use {@code route} */
    public void authorizeRoute(Principal p, String route) {
        if (p == Principal.OPEN) return;
        if (!p.mayUseRoute(route)) throw GatewayException.forbidden(route);
    }

    /** @throws GatewayException 429 when the key's request or token limits are spent */
    public void rateLimit(Principal p) {
        if (p == Principal.OPEN) return;
        limiter.admit(p);
    }

    /** @throws GatewayException 403 when the key may not use this model */
    public void authorizeModel(Principal p, String model) {
        if (!p.mayUseModel(model)) throw GatewayException.forbidden("model `" + model + "`");
    }

    /**
     * The end of a request, before its last byte goes out: charges the tokens it used and appends its audit record
     * (durably). Called once per request, whatever its outcome, also for a client that left mid-answer (outcome
     * {@code cancelled}, with the tokens it was sent).
     *
     * @throws AuditUnavailableException when the record cannot be written: the request must fail
     */
    public void complete(Principal p, String route, RequestContext ctx, int status, long latencyNanos) {
        if (p != null) limiter.charge(p, (long) ctx.promptTokens() + ctx.completionTokens());
        if (audit == null || ctx.auditSkipped()) return;
        ObjectNode r = AuditLog.MAPPER.createObjectNode();
        r.put("time", Instant.now().truncatedTo(ChronoUnit.MICROS).toString());
        r.put("request_id", ctx.requestId());
        r.put("key", ctx.keyName());
        r.put("role", ctx.role());
        r.put("route", route);
        r.put("model", ctx.model());
        r.put("status", status);
        r.put("outcome", ctx.clientGone() ? "cancelled" : status < 400 ? "ok" : status < 500 ? "refused" : "error");
        r.put("prompt_tokens", ctx.promptTokens());
        r.put("completion_tokens", ctx.completionTokens());
        r.put("latency_ms", Math.round(latencyNanos / 1e4) / 100.0);
        r.put("cache_hit", ctx.cacheHit());
        if (ctx.adminAction() != null) r.put("action", ctx.adminAction());
        ArrayNode actions = r.putArray("filter_actions");
        ctx.filterActions().forEach(actions::add);
        if (config.audit().includeText()) {
            r.put("prompt", ctx.promptText());
            r.put("output", ctx.outputText());
        }
        audit.append(r);
    }

    /** Whether to keep the request's prompt and output (as the PII filter let them through) for the audit record. */
    public boolean recordsText() {
        return audit != null && config.audit().includeText();
    }

    /** {@code GET /admin/keys}: the keys, without secrets or hashes. */
    public ObjectNode keyList() {
        ObjectNode root = AuditLog.MAPPER.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        Instant now = Instant.now();
        for (ApiKey k : keys.keys()) {
            ObjectNode n = data.addObject();
            n.put("name", k.name());
            n.put("role", k.role());
            ArrayNode m = n.putArray("models");
            k.models().forEach(m::add);
            n.put("state", k.state(now));
            n.put("created", String.valueOf(k.created()));
            n.put("expires", k.expires() == null ? null : k.expires().toString());
        }
        return root;
    }

    /**
     * {@code POST /admin/keys/{name}/revoke}: revokes the named key, on every replica when keys are shared through
     * Redis (they refuse it within a second), else in this server's keys file.
     *
     * @throws IllegalArgumentException when no active key has that name
     */
    public ObjectNode revoke(String name) {
        boolean done;
        if (keys instanceof RedisKeyRing shared) {
            done = shared.revoke(name);
        } else if (config.keysPath() != null) {
            try {
                new KeyStore(config.keysPath()).revoke(name);
                done = true;
            } catch (IllegalArgumentException e) {
                done = false;
            }
        } else {
            done = false;
        }
        if (!done) throw new IllegalArgumentException("no active key named '" + name + "'");
        ObjectNode r = AuditLog.MAPPER.createObjectNode();
        r.put("name", name);
        r.put("state", "revoked");
        return r;
    }

    /** The keys file for the admin API's create and revoke (the same code as {@code autoglm keys}), or null without a data directory. */
    public KeyStore keyStore() {
        return config.keysPath() == null ? null : new KeyStore(config.keysPath());
    }

    /** Whether keys and revocations are shared with other replicas through Redis. */
    public boolean keysShared() {
        return keys instanceof RedisKeyRing;
    }

    /** The audit trail's directory, or null when there is none. */
    public Path auditDirectory() {
        return audit == null ? null : audit.directory();
    }

    /** Whether {@code role} is built in or configured (a key of another role may use nothing). */
    public boolean roleDefined(String role) {
        return roles.containsKey(role);
    }

    /** Whether any key exists (else the server is open to anyone who can reach it). */
    public boolean keysRequired() {
        return keys.required();
    }

    /** The key from {@code Authorization: Bearer <key>}, or null. */
    static String bearer(String header) {
        if (header == null) return null;
        String h = header.strip();
        if (h.length() < 7 || !h.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) return null;
        return h.substring(7).strip();
    }

    @Override
    public void close() {
        if (audit != null) audit.close();
        if (shared != null) shared.close();
    }
}
