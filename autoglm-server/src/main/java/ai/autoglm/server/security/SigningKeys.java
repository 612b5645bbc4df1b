package ai.autoglm.server.security;

import ai.autoglm.core.format.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 key pairs for signing models, from the JDK's own provider (RFC 8032; no library needed). Keys are stored
 * as PEM, the format OpenSSL reads and writes ({@code openssl genpkey -algorithm ed25519}): the private key as
 * PKCS#8 {@code PRIVATE KEY} (file mode 0600), the public key as X.509 SubjectPublicKeyInfo {@code PUBLIC KEY}
 * (RFC 7468 section 10 and 13; RFC 8410 for the Ed25519 algorithm identifier).
 */
public final class SigningKeys {
    public static final String ALGORITHM = "Ed25519";
    public static final String PRIVATE_FILE = "autoglm-signing.key";
    public static final String PUBLIC_FILE = "autoglm-signing.pub";

    private SigningKeys() {
    }

    /** The two files written by {@link #generate}. */
    public record Written(Path privateKey, Path publicKey, String keyId) {
    }

    /** A fresh key pair in {@code dir}; refuses to overwrite an existing private key (it may sign released models). */
    public static Written generate(Path dir) {
        Path priv = dir.resolve(PRIVATE_FILE);
        Path pub = dir.resolve(PUBLIC_FILE);
        if (Files.exists(priv)) throw new IllegalArgumentException(priv + ": already exists; remove it first or choose another --out");
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            Files.createDirectories(dir);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no Ed25519 (JDK 15+ does)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        write(priv, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
        write(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()), false);
        return new Written(priv, pub, keyId(pair.getPublic()));
    }

    public static PrivateKey readPrivate(Path file) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(unpem(file, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + ": not an Ed25519 private key (expected PEM PKCS#8 from autoglm keygen or openssl genpkey -algorithm ed25519): " + e.getMessage());
        }
    }

    public static PublicKey readPublic(Path file) {
        return publicKey(unpem(file, "PUBLIC KEY"), file.toString());
    }

    /** An X.509 SubjectPublicKeyInfo encoding as an Ed25519 key; {@code where} names its origin in errors. */
    public static PublicKey publicKey(byte[] spki, String where) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(where + ": not an Ed25519 public key: " + e.getMessage());
        }
    }

    /** A short name for a public key: the first 16 hex digits of the SHA-256 of its X.509 encoding. */
    public static String keyId(PublicKey key) {
        return FileDigest.sha256(key.getEncoded()).substring(0, 16);
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    static byte[] unpem(Path file, String label) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read key " + file + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) throw new IllegalArgumentException(file + ": expected a PEM block '" + begin + "'");
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(file + ": the PEM block is not valid base64");
        }
    }

    private static void write(Path file, String text, boolean ownerOnly) {
        AtomicFiles.write(file, ownerOnly ? PosixFilePermissions.fromString("rw-------") : null,
                ch -> ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII))));
    }
}
