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
        write(target, content, new FileAttribute<?>[0]);
    }

    /**
     * As {@link #write(Path, Content)}, the temp file created with these attributes (e.g. owner-only POSIX
     * permissions for secrets: set at creation, so the content is never readable by others, not even briefly).
     */
    public static void write(Path target, Content content, FileAttribute<?>... attributes) {
        Path abs = target.toAbsolutePath();
        // Not Files.createTempFile: it makes the file owner-only (0600); a model file gets the umask default.
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attributes)) {
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
