package ai.autoglm.server.gateway;

import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.security.ApiKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running server's view of the keys file. Every request first looks at the file's identity (inode, modification
 * time, size: one {@code stat}); when it changed, the file is read again, so a key created or revoked with
 * {@code autoglm keys} counts from the next request, with no restart. The keys file is replaced by rename, so a
 * read never sees half a file. A file that cannot be read fails closed: every key is refused until it is fixed.
 *
 * <p>Once this server has seen a key in the file, the file going missing, empty (no bytes, or no keys) or unreadable
 * also fails closed (every request but {@code /health} gets 401) and is logged at SEVERE, once per change of the
 * file: deleting {@code keys.json} by mistake must not turn a protected server into an open one. Serving without
 * keys again takes a restart with no keys file.
 */
public final class KeyRing implements KeyLookup {
    private static final Logger LOG = Logger.getLogger(KeyRing.class.getName());

    private record Snapshot(Object identity, List<ApiKey> keys, boolean broken) {
    }

    private final Path file;
    private volatile Snapshot current;
    /** Whether any snapshot so far held a key: from then on, no keys means a broken file, not an open server. */
    private volatile boolean configured;

    /** @param file the keys file, or null for none (no keys: the server is open) */
    public KeyRing(Path file) {
        this.file = file;
        this.current = file == null ? new Snapshot(null, List.of(), false) : load();
    }

    /**
     * Whether keys are required: once the keys file holds any key (revoked and expired ones too; revoking the
     * last key does not open the server), or when it cannot be read.
     */
    public boolean required() {
        Snapshot s = fresh();
        return s.broken || !s.keys.isEmpty();
    }

    /**
     * The active key whose secret this is, or null. Every key's hash is computed and compared in constant time,
     * without stopping at a match, so the time taken says nothing about which key (or which part of it) matched.
     */
    public ApiKey authenticate(String secret) {
        if (secret == null) return null;
        Snapshot s = fresh();
        ApiKey match = null;
        for (ApiKey k : s.keys) {
            byte[] expected = HexFormat.of().parseHex(k.hash());
            boolean equal = MessageDigest.isEqual(expected, KeyStore.hash(HexFormat.of().parseHex(k.salt()), secret));
            if (equal) match = k;
        }
        return match != null && match.activeAt(Instant.now()) ? match : null;
    }

    public List<ApiKey> keys() {
        return fresh().keys;
    }

    private Snapshot fresh() {
        if (file == null) return current;
        Snapshot s = current;
        if (Objects.equals(s.identity, identity())) return s;
        synchronized (this) {
            if (!Objects.equals(current.identity, identity())) current = load();
            return current;
        }
    }

    private Object identity() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(String.valueOf(a.fileKey()), a.lastModifiedTime(), a.size());
        } catch (NoSuchFileException e) {
            return "missing";
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private Snapshot load() {
        Object id = identity();
        try {
            List<ApiKey> keys = KeyStore.read(file);
            if (keys.isEmpty() && configured) {
                LOG.severe("the keys file " + file + " is " + ("missing".equals(id) ? "missing" : "empty")
                        + " although it held keys: refusing every request (401) until it is restored; to serve without keys, restart the server");
                return new Snapshot(id, List.of(), true);
            }
            if (!keys.isEmpty()) {
                if (current != null && current.broken) LOG.warning("the keys file " + file + " is readable again: " + keys.size() + " keys");
                configured = true;
            }
            LOG.fine(() -> "read " + keys.size() + " keys from " + file);
            return new Snapshot(id, keys, false);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "cannot read the keys file; refusing every request (401) until it is fixed: " + e.getMessage());
            return new Snapshot(id, List.of(), true);
        }
    }
}
