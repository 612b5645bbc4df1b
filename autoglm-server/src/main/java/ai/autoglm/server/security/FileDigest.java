package ai.autoglm.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of files and bytes, as lowercase hex. Files are streamed through a fixed 1 MiB buffer, so a model file of
 * many gigabytes never comes onto the heap (the JDK's SHA-256 uses the CPU's SHA extensions where present). The one
 * digest implementation of the server: the response cache's model digest and the signed-model manifests both use it.
 */
public final class FileDigest {
    private static final int BUFFER = 1 << 20;

    private FileDigest() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must support SHA-256", e);
        }
    }

    /** @throws UncheckedIOException naming the file when it cannot be read */
    public static String sha256(Path file) {
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * SHA-256 of memory (a mapped model file: the very bytes the loader parses and serves), fed in 1 MiB slices so
     * that mappings over 2 GiB work.
     */
    public static String sha256(MemorySegment content) {
        MessageDigest md = sha256();
        for (long off = 0; off < content.byteSize(); off += BUFFER) {
            md.update(content.asSlice(off, Math.min(BUFFER, content.byteSize() - off)).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }
}
