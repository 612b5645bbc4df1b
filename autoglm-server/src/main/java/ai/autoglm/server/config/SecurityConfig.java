package ai.autoglm.server.config;

import ai.autoglm.server.security.Role;
import ai.autoglm.server.security.AuditLog;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The gateway's settings (the {@code security:} section of the server config).
 *
 * @param home           the data directory, or null for none (no keys file, no audit trail: tests and embedding)
 * @param keysFile       the keys file, relative to {@code home} unless absolute
 * @param roles          custom roles, beside the built-in admin, user and reader
 * @param limits         request and token limits by role and by key name
 * @param audit          the audit trail
 * @param tls            PEM certificate and key, or null for plain HTTP
 * @param corsOrigins    origins a browser may call from ({@code *} for any); empty: CORS off
 * @param maxHeaderBytes the largest request head (request line and headers) accepted
 * @param allowedHosts   host names, beside loopback names and IP addresses, that a server without keys accepts in
 *                       the {@code Host} header (see {@link OpenModeGuard})
 */
public record SecurityConfig(Path home, String keysFile, List<Role> roles, Limits limits, Audit audit, Tls tls,
                             List<String> corsOrigins, int maxHeaderBytes, List<String> allowedHosts) {
    public static final String DEFAULT_KEYS_FILE = "keys.json";
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

    /** A per-minute request limit and a per-day token quota; null for no limit. */
    public record Limit(Integer requestsPerMinute, Long tokensPerDay) {
        public Limit {
            if (requestsPerMinute != null && requestsPerMinute < 1) throw new IllegalArgumentException("requests-per-minute must be at least 1");
            if (tokensPerDay != null && tokensPerDay < 1) throw new IllegalArgumentException("tokens-per-day must be at least 1");
        }
    }

    /**
     * Limits by role name, and by key name (a key's own limit replaces its role's), and the failed authentications a
     * client address may make per minute ({@code unauthenticatedPerMinute}, 0: no limit); past it, its requests that
     * fail authentication get 429 and no audit record of their own, so that no anonymous client can fill the disk.
     */
    public record Limits(Map<String, Limit> byRole, Map<String, Limit> byKey, int unauthenticatedPerMinute) {
        public static final int DEFAULT_UNAUTHENTICATED_PER_MINUTE = 60;
        public static final Limits NONE = new Limits(Map.of(), Map.of());

        public Limits {
            byRole = Map.copyOf(byRole);
            byKey = Map.copyOf(byKey);
            if (unauthenticatedPerMinute < 0) throw new IllegalArgumentException("unauthenticated-per-minute must be 0 (no limit) or more");
        }

        public Limits(Map<String, Limit> byRole, Map<String, Limit> byKey) {
            this(byRole, byKey, DEFAULT_UNAUTHENTICATED_PER_MINUTE);
        }

        public Limit forKey(String keyName, String role) {
            Limit k = keyName == null ? null : byKey.get(keyName);
            return k != null ? k : role == null ? null : byRole.get(role);
        }
    }

    /**
     * @param enabled      write the audit trail (needs a data directory)
     * @param directory    relative to the data directory unless absolute
     * @param maxFileBytes the live file is rotated once it is this large
     * @param includeText  also record the prompt and the output as the PII filter let them through (off: only who,
     *                     what, when and how much)
     * @param keepFiles    rotated files to keep (the oldest beyond are deleted); 0 keeps all
     * @param keepDays     rotated files whose last record is older are deleted; 0 keeps them forever
     */
    public record Audit(boolean enabled, String directory, long maxFileBytes, boolean includeText, int keepFiles, int keepDays) {
        public static final Audit DEFAULT = new Audit(true, "audit", 64L << 20, false, 0, 0);

        public Audit {
            if (maxFileBytes < 1024) throw new IllegalArgumentException("audit max-file-bytes must be at least 1024, got " + maxFileBytes);
            if (keepFiles < 0) throw new IllegalArgumentException("audit keep-files must be 0 (all) or more, got " + keepFiles);
            if (keepDays < 0) throw new IllegalArgumentException("audit keep-days must be 0 (forever) or more, got " + keepDays);
        }

        public Audit(boolean enabled, String directory, long maxFileBytes, boolean includeText) {
            this(enabled, directory, maxFileBytes, includeText, 0, 0);
        }

        public AuditLog.Retention retention() {
            return new AuditLog.Retention(keepFiles, keepDays == 0 ? null : java.time.Duration.ofDays(keepDays));
        }
    }

    /** PEM files: the certificate chain and its private key (PKCS#8, unencrypted). */
    public record Tls(Path certificate, Path privateKey) {
    }

    public SecurityConfig {
        roles = List.copyOf(roles);
        corsOrigins = List.copyOf(corsOrigins);
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
        Role.withBuiltIns(roles); // checks the names now
        if (maxHeaderBytes < 1024) throw new IllegalArgumentException("max-header-bytes must be at least 1024, got " + maxHeaderBytes);
    }

    /** No data directory: no keys, no audit trail; plain HTTP, CORS off. */
    public static SecurityConfig none() {
        return defaults(null);
    }

    /** Every default, with this data directory (keys.json and audit/ in it). */
    public static SecurityConfig defaults(Path home) {
        return new SecurityConfig(home, DEFAULT_KEYS_FILE, List.of(), Limits.NONE, Audit.DEFAULT, null, List.of(),
                DEFAULT_MAX_HEADER_BYTES, List.of());
    }

    public SecurityConfig withHome(Path h) {
        return new SecurityConfig(h, keysFile, roles, limits, audit, tls, corsOrigins, maxHeaderBytes, allowedHosts);
    }

    public SecurityConfig withLimits(Limits l) {
        return new SecurityConfig(home, keysFile, roles, l, audit, tls, corsOrigins, maxHeaderBytes, allowedHosts);
    }

    public SecurityConfig withAudit(Audit a) {
        return new SecurityConfig(home, keysFile, roles, limits, a, tls, corsOrigins, maxHeaderBytes, allowedHosts);
    }

    public SecurityConfig withTls(Tls t) {
        return new SecurityConfig(home, keysFile, roles, limits, audit, t, corsOrigins, maxHeaderBytes, allowedHosts);
    }

    public SecurityConfig withCors(List<String> origins) {
        return new SecurityConfig(home, keysFile, roles, limits, audit, tls, origins, maxHeaderBytes, allowedHosts);
    }

    public SecurityConfig withAllowedHosts(List<String> hosts) {
        return new SecurityConfig(home, keysFile, roles, limits, audit, tls, corsOrigins, maxHeaderBytes, hosts);
    }

    public SecurityConfig withRoles(List<Role> r) {
        return new SecurityConfig(home, keysFile, r, limits, audit, tls, corsOrigins, maxHeaderBytes, allowedHosts);
    }

    /** The keys file, or null without a data directory (an absolute keys-file is used as given). */
    public Path keysPath() {
        if (home == null) return Path.of(keysFile).isAbsolute() ? Path.of(keysFile) : null;
        return home.resolve(keysFile);
    }

    /** The audit directory, or null when the trail is off (or there is no data directory for a relative one). */
    public Path auditDirectory() {
        if (!audit.enabled()) return null;
        if (home == null) return Path.of(audit.directory()).isAbsolute() ? Path.of(audit.directory()) : null;
        return home.resolve(audit.directory());
    }
}
