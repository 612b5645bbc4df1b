package ai.autoglm.server.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Signed models (YAML {@code trust:}): when {@code keys} is not empty, a model is served only if its manifest is
 * signed by one of these Ed25519 public keys (PEM files) and its files are unchanged.
 */
public record TrustConfig(List<Path> keys) {
    public static final TrustConfig NONE = new TrustConfig(List.of());

    public TrustConfig {
        keys = List.copyOf(keys);
    }
}
