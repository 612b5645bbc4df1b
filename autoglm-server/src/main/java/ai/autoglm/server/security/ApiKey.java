package ai.autoglm.server.security;

import java.time.Instant;
import java.util.List;

/**
 * One API key as the keys file stores it: never the key itself, only its salted hash.
 *
 * @param models  the models the key may use ({@code []}: whatever its role allows)
 * @param expires null for never
 * @param revoked when it was revoked, or null
 * @param salt    16 random bytes, hex
 * @param hash    SHA-256(salt || key), hex
 */
public record ApiKey(String name, String role, List<String> models, Instant created, Instant expires, Instant revoked,
                     String salt, String hash) {
    public ApiKey {
        models = models == null ? List.of() : List.copyOf(models);
    }

    /** Usable now: neither revoked nor expired. */
    public boolean activeAt(Instant now) {
        return revoked == null && (expires == null || now.isBefore(expires));
    }

    public String state(Instant now) {
        return revoked != null ? "revoked" : expires != null && !now.isBefore(expires) ? "expired" : "active";
    }

    ApiKey revokedAt(Instant when) {
        return new ApiKey(name, role, models, created, expires, when, salt, hash);
    }
}
