package ai.autoglm.server.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The append-only, hash-chained audit trail: one JSON line per request,
 * {@code {"seq": n, "prev": SHA-256 of line n-1, ...the record...}}, the first line ever chaining to 64 zeros.
 * Editing, removing, inserting or reordering a line breaks the chain at that point ({@link AuditVerifier}).
 *
 * <p>Durability: {@link #append} returns only once the line is on disk (fdatasync), and the server calls it
 * before the response's last byte, so no client ever holds an answer the trail does not record. Concurrent
 * appends share one sync (group commit): the first waiter syncs everything written so far, the others find their
 * line already covered, so 16 clients cost about one sync per batch, not one each.
 *
 * <p>Rotation: once the live file {@code audit.jsonl} reaches the size limit it is synced, closed and renamed
 * {@code audit-<first seq, 20 digits>.jsonl}; the next line goes to a new live file and chains to the last line of
 * the old one, so the chain runs on across files.
 */
public final class AuditLog implements AutoCloseable {
    public static final String LIVE = "audit.jsonl";
    public static final String GENESIS = "0".repeat(64);
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path dir;
    private final long maxFileBytes;
    private final Object appendLock = new Object();
    private final Object syncLock = new Object();
    private volatile FileChannel channel;
    private long nextSeq;
    private long liveFirstSeq;
    private String lastHash;
    private long liveBytes;
    /** Bytes written and bytes known durable, counted over all files since this log was opened. */
    private volatile long written;
    private final AtomicLong durable = new AtomicLong();

    private AuditLog(Path dir, long maxFileBytes) {
        this.dir = dir;
        this.maxFileBytes = maxFileBytes;
    }

    /** Opens (creating, 0700/0600) the trail in {@code dir}, continuing the chain of what is already there. */
    public static AuditLog open(Path dir, long maxFileBytes) {
        AutoglmHome.createPrivateDirectory(dir);
        AuditLog log = new AuditLog(dir, maxFileBytes);
        try {
            log.resume();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit trail in " + dir + ": " + e.getMessage(), e);
        }
        return log;
    }

    private void resume() throws IOException {
        Path live = dir.resolve(LIVE);
        dropUnfinishedLine(live);
        channel = AutoglmHome.openAppend(live);
        liveBytes = channel.size();
        nextSeq = 0;
        lastHash = GENESIS;
        byte[] last = liveBytes > 0 ? AuditFiles.lastLine(live) : null;
        if (last == null) {
            List<Path> rotated = AuditFiles.rotated(dir);
            if (!rotated.isEmpty()) last = AuditFiles.lastLine(rotated.getLast());
        }
        if (last != null) {
            nextSeq = MAPPER.readTree(last).path("seq").asLong(-1) + 1;
            if (nextSeq <= 0) throw new IOException("the last audit record has no seq; run 'autoglm audit verify' on " + dir);
            lastHash = sha256Hex(last);
        }
        byte[] first = liveBytes > 0 ? AuditFiles.firstLine(live) : null;
        liveFirstSeq = first == null ? nextSeq : MAPPER.readTree(first).path("seq").asLong();
    }

    /**
     * A crash mid-write can leave a last line without its newline. That record was never synced, so its response
     * was never sent: it is no part of the trail, and cutting it off keeps the chain whole.
     */
    private static void dropUnfinishedLine(Path live) throws IOException {
        if (!Files.exists(live)) return;
        try (FileChannel ch = FileChannel.open(live, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size == 0) return;
            long end = AuditFiles.endOfLastCompleteLine(ch);
            if (end < size) {
                ch.truncate(end);
                ch.force(true);
            }
        }
    }

    /**
     * Adds {@code seq} and {@code prev} in front of the record's fields, appends it and returns when it is durable.
     *
     * @return the record's seq
     */
    public long append(ObjectNode record) {
        long end;
        long seq;
        synchronized (appendLock) {
            seq = nextSeq;
            ObjectNode line = MAPPER.createObjectNode();
            line.put("seq", seq);
            line.put("prev", lastHash);
            line.setAll(record);
            byte[] bytes;
            try {
                bytes = MAPPER.writeValueAsBytes(line);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            try {
                if (liveBytes > 0 && liveBytes + bytes.length + 1 > maxFileBytes) rotate();
                ByteBuffer buf = ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) '\n').flip();
                while (buf.hasRemaining()) channel.write(buf);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the audit trail in " + dir + ": " + e.getMessage(), e);
            }
            nextSeq = seq + 1;
            lastHash = sha256Hex(bytes);
            liveBytes += bytes.length + 1;
            end = written + bytes.length + 1;
            written = end;
        }
        awaitDurable(end);
        return seq;
    }

    /** Group commit: returns once every byte up to {@code end} has been synced, by this thread or another. */
    private void awaitDurable(long end) {
        while (durable.get() < end) {
            synchronized (syncLock) {
                if (durable.get() >= end) return;
                long upTo = written;        // read before the channel: a rotation after this has synced these bytes
                FileChannel ch = channel;
                try {
                    ch.force(false);
                    durable.accumulateAndGet(upTo, Math::max);
                } catch (ClosedChannelException rotated) {
                    // the rotation synced the old file and moved `durable` on; look again
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot sync the audit trail in " + dir + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** Under appendLock: sync and close the live file, rename it after its first seq, start a new one. */
    private void rotate() throws IOException {
        channel.force(false);
        durable.accumulateAndGet(written, Math::max);
        channel.close();
        Path live = dir.resolve(LIVE);
        Files.move(live, dir.resolve(AuditFiles.rotatedName(liveFirstSeq)));
        channel = AutoglmHome.openAppend(live);
        liveBytes = 0;
        liveFirstSeq = nextSeq;
    }

    public Path directory() {
        return dir;
    }

    @Override
    public void close() {
        synchronized (appendLock) {
            try {
                channel.force(false);
                channel.close();
            } catch (IOException ignored) {
                // closing at shutdown: every record was synced when it was appended
            }
        }
    }

    static String sha256Hex(byte[] line) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
