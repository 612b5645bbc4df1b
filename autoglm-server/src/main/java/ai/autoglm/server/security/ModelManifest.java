package ai.autoglm.server.security;

import ai.autoglm.core.format.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A signed list of a model's files:
 * <pre>
 * {"format": "autoglm-model-manifest", "version": 1,
 *  "files": [{"path": "model.gguf", "size": 123, "sha256": "..."}],
 *  "signature": {"algorithm": "Ed25519", "key-id": "...", "public-key": "base64 X.509", "value": "base64"}}
 * </pre>
 * The signature is over {@link #signedBytes}: the compact UTF-8 JSON of {@code format}, {@code version} and
 * {@code files} in that order (each file's fields in the order above, files sorted by path), rebuilt from the parsed
 * values, so reformatting the manifest does not break it and editing any value does.
 *
 * @param signature base64 Ed25519 signature; null while unsigned
 * @param publicKey base64 X.509 encoding of the signer's public key
 */
public record ModelManifest(List<ModelFiles.Entry> files, String keyId, String publicKey, String signature) {
    static final String FORMAT = "autoglm-model-manifest";
    static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelManifest {
        files = List.copyOf(files);
    }

    /** The bytes the signature covers. */
    public byte[] signedBytes() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        ArrayNode arr = root.putArray("files");
        for (ModelFiles.Entry e : files) {
            ObjectNode f = arr.addObject();
            f.put("path", e.path());
            f.put("size", e.size());
            f.put("sha256", e.sha256());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path file) {
        ObjectNode root = (ObjectNode) readTree(signedBytes());
        ObjectNode sig = root.putObject("signature");
        sig.put("algorithm", SigningKeys.ALGORITHM);
        sig.put("key-id", keyId);
        sig.put("public-key", publicKey);
        sig.put("value", signature);
        try {
            byte[] bytes = JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
            AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws ModelVerificationException when the file is missing or is not a manifest */
    public static ModelManifest read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelVerificationException("no signature manifest: expected " + file + " (sign the model with autoglm sign)");
        } catch (IOException e) {
            throw new ModelVerificationException("cannot read the manifest " + file + ": " + e.getMessage());
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ModelVerificationException(file + ": the manifest is not valid JSON");
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION || !root.path("files").isArray()) {
            throw new ModelVerificationException(file + ": not an autoglm model manifest (version " + VERSION + ")");
        }
        List<ModelFiles.Entry> files = new ArrayList<>();
        for (JsonNode f : root.get("files")) {
            if (!f.path("path").isTextual() || !f.path("size").canConvertToLong() || !f.path("sha256").isTextual()) {
                throw new ModelVerificationException(file + ": every entry of 'files' needs path, size and sha256");
            }
            files.add(new ModelFiles.Entry(f.get("path").asText(), f.get("size").asLong(), f.get("sha256").asText()));
        }
        JsonNode sig = root.path("signature");
        if (!sig.isObject() || !SigningKeys.ALGORITHM.equals(sig.path("algorithm").asText())
                || !sig.path("public-key").isTextual() || !sig.path("value").isTextual()) {
            throw new ModelVerificationException(file + ": the manifest is not signed (no Ed25519 'signature' with public-key and value)");
        }
        return new ModelManifest(files, sig.path("key-id").asText(null), sig.get("public-key").asText(), sig.get("value").asText());
    }

    private static JsonNode readTree(byte[] b) {
        try {
            return JSON.readTree(b);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
