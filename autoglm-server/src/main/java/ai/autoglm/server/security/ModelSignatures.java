package ai.autoglm.server.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Signing a model (hash every file, write the manifest with an Ed25519 signature) and verifying one: the manifest's
 * signature must verify under its key, that key must be trusted (when a trust list is given), and every file must
 * still have the size and SHA-256 the manifest lists, with no file missing or added.
 */
public final class ModelSignatures {
    private ModelSignatures() {
    }

    /** What a successful verification established. */
    public record Verified(String keyId, boolean trusted, String contentDigest, List<ModelFiles.Entry> files) {
    }

    /** Hashes the model's files and writes the signed manifest (see {@link ModelFiles#manifestPath}); returns its path. */
    public static Path sign(Path model, PrivateKey key, PublicKey publicKey) {
        List<ModelFiles.Entry> files = ModelFiles.hash(model);
        ModelManifest unsigned = new ModelManifest(files, null, null, null);
        String sig;
        try {
            Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
            s.initSign(key);
            s.update(unsigned.signedBytes());
            sig = Base64.getEncoder().encodeToString(s.sign());
            // Sign-then-check: a private key that does not belong to the public key would write a useless manifest.
            s.initVerify(publicKey);
            s.update(unsigned.signedBytes());
            if (!s.verify(Base64.getDecoder().decode(sig))) throw new IllegalArgumentException("the private key does not match the public key " + SigningKeys.keyId(publicKey));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
        }
        Path out = ModelFiles.manifestPath(model);
        new ModelManifest(files, SigningKeys.keyId(publicKey), Base64.getEncoder().encodeToString(publicKey.getEncoded()), sig).write(out);
        return out;
    }

    /**
     * @param trusted the keys a signature must come from; empty means any key (integrity only, nothing about who signed)
     * @throws ModelVerificationException naming the model and the reason (the changed file, the untrusted key, ...)
     */
    public static Verified verify(Path model, List<PublicKey> trusted) {
        Verified v = verifyManifest(model, trusted);
        checkHashes(model, v.files());
        return v;
    }

    /**
     * Everything {@link #verify} checks except the files' hashes: the manifest's signature, its signer, and that the
     * model has exactly the listed files with the listed sizes. The server checks the hashes on the bytes the loader
     * maps and reads ({@link ManifestCheck}), not on a second read of the paths, so that a file renamed over a
     * verified one between the check and the load is caught.
     */
    public static Verified verifyManifest(Path model, List<PublicKey> trusted) {
        Path manifestFile = ModelFiles.manifestPath(model);
        ModelManifest manifest = ModelManifest.read(manifestFile);
        byte[] spki;
        try {
            spki = Base64.getDecoder().decode(manifest.publicKey());
        } catch (IllegalArgumentException e) {
            throw new ModelVerificationException(manifestFile + ": the signer's public-key is not base64");
        }
        PublicKey signer = SigningKeys.publicKey(spki, manifestFile + " public-key");
        String keyId = SigningKeys.keyId(signer);
        if (!trusted.isEmpty() && trusted.stream().noneMatch(k -> Arrays.equals(k.getEncoded(), spki))) {
            throw new ModelVerificationException(model + ": signed by key " + keyId + ", which is not a trusted key");
        }
        try {
            Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
            s.initVerify(signer);
            s.update(manifest.signedBytes());
            if (!s.verify(Base64.getDecoder().decode(manifest.signature()))) {
                throw new ModelVerificationException(manifestFile + ": the signature does not match the manifest (it was edited after signing)");
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            if (e instanceof ModelVerificationException m) throw m;
            throw new ModelVerificationException(manifestFile + ": the signature is malformed: " + e.getMessage());
        }
        checkListing(model, manifest.files());
        return new Verified(keyId, !trusted.isEmpty(), ModelFiles.contentDigest(model, manifest.files()), manifest.files());
    }

    /** The files present are the files listed, with the listed sizes. */
    private static void checkListing(Path model, List<ModelFiles.Entry> signed) {
        Map<String, ModelFiles.Entry> byPath = new HashMap<>();
        for (ModelFiles.Entry e : signed) byPath.put(e.path(), e);
        List<Path> actual = ModelFiles.list(model);
        Map<String, Path> present = new HashMap<>();
        for (Path p : actual) {
            // A single-file model may be renamed (with its manifest): its one entry is compared whatever its name.
            String rel = !Files.isDirectory(model) && signed.size() == 1 ? signed.getFirst().path() : ModelFiles.relative(model, p);
            if (!byPath.containsKey(rel)) throw new ModelVerificationException(model + ": file " + rel + " was added after the model was signed");
            present.put(rel, p);
        }
        for (ModelFiles.Entry e : signed) {
            Path p = present.get(e.path());
            if (p == null) throw new ModelVerificationException(model + ": file " + e.path() + " listed in the manifest is missing");
            if (p.toFile().length() != e.size()) throw new ModelVerificationException(model + ": file " + e.path() + " changed since it was signed (size " + p.toFile().length() + ", signed " + e.size() + ")");
        }
    }

    /** Each listed file streamed from its path (the listing was checked before). */
    private static void checkHashes(Path model, List<ModelFiles.Entry> signed) {
        boolean single = !Files.isDirectory(model) && signed.size() == 1;
        for (ModelFiles.Entry e : signed) {
            Path p = single ? model : model.resolve(e.path());
            if (!FileDigest.sha256(p).equals(e.sha256())) {
                throw new ModelVerificationException(model + ": file " + e.path() + " changed since it was signed (SHA-256 differs)");
            }
        }
    }
}
