package ai.autoglm.server.security;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Names of the audit trail's files, and reading the lines at their ends without loading them whole. */
final class AuditFiles {
    private static final Pattern ROTATED = Pattern.compile("audit-\\d{20}\\.jsonl");
    private static final int BLOCK = 64 * 1024;

    private AuditFiles() {
    }

    static String rotatedName(long firstSeq) {
        return String.format("audit-%020d.jsonl", firstSeq);
    }

    /** The rotated files in {@code dir}, oldest first (their names sort by first seq). */
    static List<Path> rotated(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> ROTATED.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
    }

    /** The offset just past the last '\n' (0 when there is none). */
    static long endOfLastCompleteLine(FileChannel ch) throws IOException {
        return lastNewlineBefore(ch, ch.size()) + 1;
    }

    /** The last complete line (without its newline), or null when the file has none. */
    static byte[] lastLine(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long end = endOfLastCompleteLine(ch) - 1; // the newline
            if (end < 0) return null;
            long start = lastNewlineBefore(ch, end) + 1;
            if (end - start > Integer.MAX_VALUE - 8) throw new IOException(file + ": an audit line of " + (end - start) + " bytes");
            ByteBuffer buf = ByteBuffer.allocate((int) (end - start));
            while (buf.hasRemaining() && ch.read(buf, start + buf.position()) >= 0) {
                // read it all
            }
            return buf.array();
        }
    }

    /** The first line, or null for an empty file. */
    static byte[] firstLine(Path file) throws IOException {
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') out.write(b);
            return out.size() == 0 && b < 0 ? null : out.toByteArray();
        }
    }

    /** The offset of the last '\n' before {@code limit}, or -1; reads backwards a block at a time. */
    private static long lastNewlineBefore(FileChannel ch, long limit) throws IOException {
        long pos = limit;
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        while (pos > 0) {
            int n = (int) Math.min(BLOCK, pos);
            pos -= n;
            buf.clear().limit(n);
            while (buf.hasRemaining() && ch.read(buf, pos + buf.position()) >= 0) {
                // fill the block
            }
            for (int i = n - 1; i >= 0; i--) {
                if (buf.get(i) == '\n') return pos + i;
            }
        }
        return -1;
    }
}
