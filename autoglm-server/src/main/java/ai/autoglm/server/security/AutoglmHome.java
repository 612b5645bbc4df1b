package ai.autoglm.server.security;

import ai.autoglm.core.format.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The one data directory that holds the server's state (API keys, audit trail, and what other gateway parts keep:
 * response cache, trust store): {@code ~/.autoglm} unless {@code --home} or {@code AUTOGLM_HOME} say otherwise.
 * The directory is created 0700 and every file in it 0600, the permissions given at creation (a file created
 * with the umask's 0644 and chmod-ed afterwards would be readable by others for a moment).
 */
public final class AutoglmHome {
    public static final String ENV = "AUTOGLM_HOME";
    private static final Logger LOG = Logger.getLogger(AutoglmHome.class.getName());
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-------");

    private final Path dir;

    private AutoglmHome(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    /** The data directory at exactly this path. */
    public static AutoglmHome at(Path dir) {
        return new AutoglmHome(dir);
    }

    /** {@code --home} when given, else {@code AUTOGLM_HOME}, else {@code ~/.autoglm}. Nothing is created yet. */
    public static AutoglmHome locate(Path explicit) {
        return locate(explicit, System.getenv(), System.getProperty("user.home"));
    }

    static AutoglmHome locate(Path explicit, Map<String, String> env, String userHome) {
        if (explicit != null) return at(explicit);
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return at(Path.of(fromEnv));
        return at(Path.of(userHome, ".autoglm"));
    }

    public Path dir() {
        return dir;
    }

    /** A path inside the directory ({@code name} may be absolute, then it is used as given). */
    public Path resolve(String name) {
        return dir.resolve(name);
    }

    /** Where the trust store lives: model-signing public keys ({@code *.pub}) that {@code serve} trusts. */
    public static final String TRUSTED_KEYS = "trusted-keys";

    /** The {@code *.pub} files in {@code <home>/trusted-keys/}, sorted; none when the folder does not exist. */
    public java.util.List<Path> trustedKeys() {
        Path d = dir.resolve(TRUSTED_KEYS);
        if (!java.nio.file.Files.isDirectory(d)) return java.util.List.of();
        try (var files = java.nio.file.Files.list(d)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".pub") && java.nio.file.Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list the trust store " + d + ": " + e.getMessage(), e);
        }
    }

    /** Creates the directory (0700) when missing; warns when an existing one is open to others. */
    public AutoglmHome create() {
        createPrivateDirectory(dir);
        return this;
    }

    /** Creates {@code d} and its missing parents owner-only (an existing directory is left as it is). */
    public static void createPrivateDirectory(Path d) {
        try {
            if (Files.isDirectory(d)) {
                if (POSIX) {
                    Set<PosixFilePermission> p = Files.getPosixFilePermissions(d);
                    if (p.stream().anyMatch(x -> !DIR_PERMS.contains(x))) {
                        LOG.warning(d + " is readable by other users (" + PosixFilePermissions.toString(p) + "); chmod 700 it");
                    }
                }
                return;
            }
            Path parent = d.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) createPrivateDirectory(parent); // missing parents owner-only too
            Files.createDirectory(d, privateDirectory());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + d + ": " + e.getMessage(), e);
        }
    }

    /** Writes a file atomically (temp + rename), created 0600. */
    public static void writePrivate(Path file, AtomicFiles.Content content) {
        AtomicFiles.write(file, POSIX ? FILE_PERMS : null, content);
    }

    /** Opens a file for appending, creating it 0600 when missing. */
    public static FileChannel openAppend(Path file) throws IOException {
        return FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND), privateFile());
    }

    /** The creation attribute for owner-only files (none on file systems without POSIX permissions). */
    public static FileAttribute<?>[] privateFile() {
        return POSIX ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(FILE_PERMS)} : new FileAttribute<?>[0];
    }

    private static FileAttribute<?>[] privateDirectory() {
        return POSIX ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(DIR_PERMS)} : new FileAttribute<?>[0];
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
