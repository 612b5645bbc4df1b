package ai.autoglm.server.gateway;

import ai.autoglm.server.security.SigningKeys;
import ai.autoglm.server.security.ModelSignatures;
import ai.autoglm.server.config.TrustConfig;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;

/**
 * The server's trusted model-signing keys, read once at start-up (a missing or malformed key file stops the server
 * there, naming the file). With none configured every model is served unchecked.
 */
public final class ModelTrust {
    private final List<PublicKey> keys;

    public ModelTrust(TrustConfig config) {
        this.keys = config.keys().stream().map(SigningKeys::readPublic).toList();
    }

    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** @throws ModelVerificationException when the model is unsigned, signed by another key, or changed */
    public ModelSignatures.Verified verify(Path model) {
        return ModelSignatures.verify(model, keys);
    }

    /**
     * Signature, signer and file listing only; the hashes are then checked on what the loader maps, by a
     * {@link ManifestCheck} over the result.
     *
     * @throws ModelVerificationException when the model is unsigned, signed by another key, or its files differ
     */
    public ModelSignatures.Verified verifyManifest(Path model) {
        return ModelSignatures.verifyManifest(model, keys);
    }
}
