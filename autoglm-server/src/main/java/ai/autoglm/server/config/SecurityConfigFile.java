package ai.autoglm.server.config;

import ai.autoglm.server.security.Role;
import ai.autoglm.server.config.SecurityConfig;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static ai.autoglm.server.config.ServerConfigFile.bool;
import static ai.autoglm.server.config.ServerConfigFile.checkKeys;
import static ai.autoglm.server.config.ServerConfigFile.integer;
import static ai.autoglm.server.config.ServerConfigFile.longValue;
import static ai.autoglm.server.config.ServerConfigFile.text;

/**
 * The {@code security:} section of the server config (every key optional):
 * <pre>
 * security:
 *   keys-file: keys.json              # in the data directory (~/.autoglm, AUTOGLM_HOME or --home) unless absolute
 *   roles:                            # custom roles beside admin, user and reader
 *     analyst:
 *       routes: [inference, models]   # groups inference, models, metrics, admin, or route paths, or *
 *       models: [qwen]                # aliases or *; default *
 *   limits:                           # a key's own limit replaces its role's
 *     roles: {user: {requests-per-minute: 60, tokens-per-day: 200000}}
 *     keys:  {ci-bot: {requests-per-minute: 600}}
 *     unauthenticated-per-minute: 60  # failed authentications per client address (then 429, not audited); 0: no limit
 *   audit:
 *     enabled: true
 *     directory: audit                # in the data directory unless absolute
 *     max-file-bytes: 67108864        # rotate the live file at this size
 *     include-text: false             # also record prompts and outputs (as the PII filter let them through)
 *     keep-files: 0                   # rotated files kept (oldest deleted first); 0: all
 *     keep-days: 0                    # rotated files older than this are deleted; 0: never
 *   tls:                              # PEM files, relative to this config file
 *     certificate: cert.pem
 *     private-key: key.pem
 *   cors:
 *     allowed-origins: [https://intranet.example.com]
 *   max-header-bytes: 16384
 *   allowed-hosts: [gpu-box.lan]      # Host names a server without keys accepts beside localhost and IP addresses
 * </pre>
 * The data directory itself is not set here but by the command line ({@code --home}) or the environment.
 */
final class SecurityConfigFile {
    private static final Set<String> KEYS = Set.of("keys-file", "roles", "limits", "audit", "tls", "cors", "max-header-bytes", "allowed-hosts");

    private SecurityConfigFile() {
    }

    static SecurityConfig read(Path file, JsonNode s) {
        SecurityConfig c = SecurityConfig.none();
        if (s.isMissingNode() || s.isNull()) return c;
        checkKeys(file, "security.", s, KEYS);
        Path base = file.toAbsolutePath().getParent();
        List<Role> roles = s.has("roles") ? roles(file, s.get("roles")) : List.of();
        SecurityConfig.Limits limits = SecurityConfig.Limits.NONE;
        if (s.has("limits")) {
            JsonNode l = s.get("limits");
            checkKeys(file, "security.limits.", l, Set.of("roles", "keys", "unauthenticated-per-minute"));
            limits = new SecurityConfig.Limits(limitMap(file, "security.limits.roles", l.path("roles")),
                    limitMap(file, "security.limits.keys", l.path("keys")),
                    l.has("unauthenticated-per-minute")
                            ? nonNegative(file, "security.limits.unauthenticated-per-minute", integer(file, "security.limits.unauthenticated-per-minute", l.get("unauthenticated-per-minute")))
                            : SecurityConfig.Limits.DEFAULT_UNAUTHENTICATED_PER_MINUTE);
        }
        SecurityConfig.Audit audit = SecurityConfig.Audit.DEFAULT;
        if (s.has("audit")) {
            JsonNode a = s.get("audit");
            checkKeys(file, "security.audit.", a, Set.of("enabled", "directory", "max-file-bytes", "include-text", "keep-files", "keep-days"));
            audit = new SecurityConfig.Audit(
                    a.has("enabled") ? bool(file, "security.audit.enabled", a.get("enabled")) : audit.enabled(),
                    a.has("directory") ? text(file, "security.audit.directory", a.get("directory")) : audit.directory(),
                    a.has("max-file-bytes") ? longValue(file, "security.audit.max-file-bytes", a.get("max-file-bytes")) : audit.maxFileBytes(),
                    a.has("include-text") ? bool(file, "security.audit.include-text", a.get("include-text")) : audit.includeText(),
                    a.has("keep-files") ? nonNegative(file, "security.audit.keep-files", integer(file, "security.audit.keep-files", a.get("keep-files"))) : 0,
                    a.has("keep-days") ? nonNegative(file, "security.audit.keep-days", integer(file, "security.audit.keep-days", a.get("keep-days"))) : 0);
        }
        SecurityConfig.Tls tls = null;
        if (s.has("tls")) {
            JsonNode t = s.get("tls");
            checkKeys(file, "security.tls.", t, Set.of("certificate", "private-key"));
            if (!t.has("certificate") || !t.has("private-key")) throw new IllegalArgumentException(file + ": 'security.tls' needs certificate and private-key (PEM files)");
            tls = new SecurityConfig.Tls(base.resolve(text(file, "security.tls.certificate", t.get("certificate"))),
                    base.resolve(text(file, "security.tls.private-key", t.get("private-key"))));
        }
        List<String> origins = List.of();
        if (s.has("cors")) {
            JsonNode co = s.get("cors");
            checkKeys(file, "security.cors.", co, Set.of("allowed-origins"));
            origins = strings(file, "security.cors.allowed-origins", co.get("allowed-origins"));
        }
        return new SecurityConfig(null,
                s.has("keys-file") ? text(file, "security.keys-file", s.get("keys-file")) : c.keysFile(),
                roles, limits, audit, tls, origins,
                s.has("max-header-bytes") ? integer(file, "security.max-header-bytes", s.get("max-header-bytes")) : c.maxHeaderBytes(),
                s.has("allowed-hosts") ? strings(file, "security.allowed-hosts", s.get("allowed-hosts")) : List.of());
    }

    private static int nonNegative(Path file, String where, int v) {
        if (v < 0) throw new IllegalArgumentException(file + ": '" + where + "' must be 0 or more, got " + v);
        return v;
    }

    private static List<Role> roles(Path file, JsonNode node) {
        if (!node.isObject()) throw new IllegalArgumentException(file + ": 'security.roles' must map role names to {routes, models}");
        List<Role> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = "security.roles." + e.getKey();
            checkKeys(file, where + ".", e.getValue(), Set.of("routes", "models"));
            List<String> routes = strings(file, where + ".routes", e.getValue().get("routes"));
            List<String> models = e.getValue().has("models") ? strings(file, where + ".models", e.getValue().get("models")) : List.of("*");
            try {
                out.add(new Role(e.getKey(), new HashSet<>(routes), new HashSet<>(models)));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(file + ": " + where + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static Map<String, SecurityConfig.Limit> limitMap(Path file, String where, JsonNode node) {
        Map<String, SecurityConfig.Limit> out = new LinkedHashMap<>();
        if (node.isMissingNode()) return out;
        if (!node.isObject()) throw new IllegalArgumentException(file + ": '" + where + "' must map names to limits");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String w = where + "." + e.getKey();
            JsonNode l = e.getValue();
            checkKeys(file, w + ".", l, Set.of("requests-per-minute", "tokens-per-day"));
            try {
                out.put(e.getKey(), new SecurityConfig.Limit(
                        l.has("requests-per-minute") ? integer(file, w + ".requests-per-minute", l.get("requests-per-minute")) : null,
                        l.has("tokens-per-day") ? longValue(file, w + ".tokens-per-day", l.get("tokens-per-day")) : null));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(file + ": " + w + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static List<String> strings(Path file, String where, JsonNode node) {
        if (node == null || !node.isArray()) throw new IllegalArgumentException(file + ": '" + where + "' must be a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) out.add(text(file, where, n));
        return out;
    }
}
