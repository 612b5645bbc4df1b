package ai.autoglm.core.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that readers only ever see the old file or the whole new one: the content goes to a
 * hidden temp file beside the target, is forced to disk, then renamed over the target. On any failure the
 * temp file is deleted and the target is untouched.
 */
public final class AtomicFiles {

    /** Writes the content into the open temp file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /** @throws UncheckedIOException naming the target when writing fails (nothing is left behind) */
    public static void write(Path target, Content content) {
        write(target, null, content);
    }

    /**
     * Like {@link #write(Path, Content)}, with the file created with these POSIX permissions (e.g. owner-only for a
     * private key), so that it is never readable by others, not even between creation and a later chmod. Null
     * permissions, or a file system without POSIX permissions, give the default.
     */
    public static void write(Path target, Set<PosixFilePermission> permissions, Content content) {
        Path abs = target.toAbsolutePath();
        // Not Files.createTempFile: it makes the file owner-only (0600); a model file gets the umask default.
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        boolean moved = false;
        try {
            boolean posix = permissions != null && abs.getFileSystem().supportedFileAttributeViews().contains("posix");
            FileAttribute<?>[] attrs = posix ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(permissions)} : new FileAttribute<?>[0];
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attrs)) {
                // The umask may have narrowed the permissions at creation; set exactly the ones asked for.
                if (posix) Files.setPosixFilePermissions(tmp, permissions);
                content.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + abs + ": " + e.getMessage(), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the failure that got us here is the one to report
                }
            }
        }
    }
}
