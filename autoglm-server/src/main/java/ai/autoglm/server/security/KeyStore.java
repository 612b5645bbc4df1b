package ai.autoglm.server.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The API keys file ({@code keys.json} in the data directory): creating, listing and revoking keys. Changes are
 * read-modify-write under an exclusive lock on a sibling lock file (two {@code autoglm keys} at once lose nothing)
 * and land atomically, 0600, so a running server (see {@code gateway.KeyRing}) only ever reads a whole file.
 *
 * <p>Why a salted SHA-256 and not bcrypt/scrypt/Argon2: slow password hashes exist to make guessing a
 * low-entropy human password expensive. A key here is 256 bits from {@link SecureRandom}: nobody can enumerate
 * 2^256 candidates at any hash speed, so slowness adds no security and would cost milliseconds on every request.
 * The per-key salt keeps equal hashes from revealing equal keys and rules out precomputed tables (the same choice
 * GitHub and Stripe make for their tokens). Comparison is constant-time ({@link MessageDigest#isEqual}).
 */
public final class KeyStore {
    /** Every key starts with this, so that secret scanners and people can recognise one. */
    public static final String PREFIX = "agk_";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A new key: its record and the secret, shown once. */
    public record Issued(ApiKey key, String secret) {
    }

    private final Path file;

    public KeyStore(Path file) {
        this.file = file.toAbsolutePath();
    }

    public Path file() {
        return file;
    }

    /** All keys, revoked and expired ones included; none when the file does not exist. */
    public List<ApiKey> list() {
        return read(file);
    }

    /**
     * Makes a key. A name may be reused only once its earlier key is revoked (the old record is replaced).
     *
     * @param models  the models it may use (empty: all its role allows)
     * @param expires null for never
     */
    public Issued create(String name, String role, List<String> models, Instant expires) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("--name: a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; got '" + name + "'");
        }
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        ApiKey key = new ApiKey(name, role, models, Instant.now(), expires, null, HexFormat.of().formatHex(salt),
                HexFormat.of().formatHex(hash(salt, secret)));
        update(keys -> {
            List<ApiKey> out = new ArrayList<>();
            for (ApiKey k : keys) {
                if (!k.name().equals(name)) out.add(k);
                else if (k.revoked() == null) throw new IllegalArgumentException("--name: a key named '" + name + "' exists; revoke it first");
            }
            out.add(key);
            return out;
        });
        return new Issued(key, secret);
    }

    /** Revokes the named key; a running server refuses it from its next request. */
    public ApiKey revoke(String name) {
        ApiKey[] done = new ApiKey[1];
        update(keys -> {
            List<ApiKey> out = new ArrayList<>();
            for (ApiKey k : keys) {
                if (k.name().equals(name) && k.revoked() == null) {
                    done[0] = k.revokedAt(Instant.now());
                    out.add(done[0]);
                } else {
                    out.add(k);
                }
            }
            if (done[0] == null) throw new IllegalArgumentException("no active key named '" + name + "' in " + file);
            return out;
        });
        return done[0];
    }

    private void update(UnaryOperator<List<ApiKey>> change) {
        AutoglmHome.createPrivateDirectory(file.getParent());
        Path lockFile = file.resolveSibling("." + file.getFileName() + ".lock");
        try (FileChannel lockChannel = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), AutoglmHome.privateFile());
             FileLock ignored = lockChannel.lock()) {
            List<ApiKey> next = change.apply(read(file));
            byte[] json = MAPPER.writeValueAsBytes(toJson(next));
            AutoglmHome.writePrivate(file, ch -> ch.write(ByteBuffer.wrap(json)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file + ": " + e.getMessage(), e);
        }
    }

    /** The keys in the file; none when it does not exist; IllegalArgumentException naming the file when it is damaged. */
    public static List<ApiKey> read(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a valid keys file: " + e.getMessage(), e);
        }
        JsonNode keys = root == null ? null : root.get("keys");
        if (keys == null || !keys.isArray()) throw new IllegalArgumentException(file + ": expected {\"version\": 1, \"keys\": [...]}");
        List<ApiKey> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            JsonNode k = keys.get(i);
            try {
                List<String> models = new ArrayList<>();
                k.path("models").forEach(m -> models.add(m.asText()));
                out.add(new ApiKey(required(k, "name"), required(k, "role"), models, instant(k, "created"), instant(k, "expires"),
                        instant(k, "revoked"), required(k, "salt"), required(k, "hash")));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": keys[" + i + "]: " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static String required(JsonNode k, String field) {
        JsonNode v = k.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("'" + field + "' must be a string");
        return v.asText();
    }

    private static Instant instant(JsonNode k, String field) {
        JsonNode v = k.get(field);
        return v == null || v.isNull() ? null : Instant.parse(v.asText());
    }

    private static ObjectNode toJson(List<ApiKey> keys) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("version", 1);
        ArrayNode arr = root.putArray("keys");
        for (ApiKey k : keys) {
            ObjectNode n = arr.addObject();
            n.put("name", k.name());
            n.put("role", k.role());
            ArrayNode m = n.putArray("models");
            k.models().forEach(m::add);
            n.put("created", k.created() == null ? null : k.created().toString());
            n.put("expires", k.expires() == null ? null : k.expires().toString());
            n.put("revoked", k.revoked() == null ? null : k.revoked().toString());
            n.put("salt", k.salt());
            n.put("hash", k.hash());
        }
        return root;
    }

    /** SHA-256(salt || key). */
    public static byte[] hash(byte[] salt, String secret) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(salt);
            return d.digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
