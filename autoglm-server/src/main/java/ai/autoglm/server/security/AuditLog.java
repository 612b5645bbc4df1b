package ai.autoglm.server.security;

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
import java.time.Duration;
import java.time.Instant;
import java.util.logging.Logger;

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
 *
 * <p>Failure: a record that cannot be written or synced (disk full, I/O error) throws
 * {@link AuditUnavailableException}, and the request fails. A write cut short leaves a torn line: it is cut off at
 * once (the file is truncated back to its last whole line), and if even that fails the log is fenced: every append
 * first repairs the tail (re-reading the files as at start-up) and fails until it can. The first failure is logged
 * once, loudly, and the recovery once.
 *
 * <p>Retention ({@link Retention}): after a rotation the oldest rotated files beyond the count or age limit are
 * deleted, and the {@link AuditAnchor} records where the trail now starts, so a removal by anyone else still shows.
 */
public final class AuditLog implements AutoCloseable {
    public static final String LIVE = "audit.jsonl";
    public static final String GENESIS = "0".repeat(64);
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Logger LOG = Logger.getLogger(AuditLog.class.getName());

    /**
     * Which rotated files to keep: at most {@code maxFiles} (0: all) and none whose last record is older than
     * {@code maxAge} (null: no age limit). The live file is always kept.
     */
    public record Retention(int maxFiles, Duration maxAge) {
        public static final Retention KEEP_ALL = new Retention(0, null);

        public Retention {
            if (maxFiles < 0) throw new IllegalArgumentException("audit keep-files must be 0 (all) or more, got " + maxFiles);
            if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) throw new IllegalArgumentException("audit keep-days must be positive");
        }
    }

    /** The newest appended record and the byte count up to its end: what a sync makes durable. */
    private record Head(long seq, String hash, long written) {
    }

    private final Path dir;
    private final long maxFileBytes;
    private final Retention retention;
    private final Object appendLock = new Object();
    private final Object syncLock = new Object();
    private final Object anchorLock = new Object();
    private volatile FileChannel channel;
    private long nextSeq;
    private long liveFirstSeq;
    private String lastHash;
    private long liveBytes;
    /** Bytes written and bytes known durable, counted over all files since this log was opened. */
    private volatile long written;
    private volatile Head head;
    private final AtomicLong durable = new AtomicLong();
    /** The checkpoint on disk (under anchorLock). */
    private AuditAnchor anchor;
    /** A write failed and its tail could not be cut back: repair before the next append (under appendLock). */
    private boolean fenced;
    /** Failing since the last success; how many appends failed meanwhile (for the one log line on recovery). */
    private volatile boolean failing;
    private final AtomicLong failures = new AtomicLong();
    /** The last anchor write failed (under anchorLock). */
    private boolean anchorFailing;

    private AuditLog(Path dir, long maxFileBytes, Retention retention) {
        this.dir = dir;
        this.maxFileBytes = maxFileBytes;
        this.retention = retention;
    }

    /** Opens (creating, 0700/0600) the trail in {@code dir}, keeping every rotated file. */
    public static AuditLog open(Path dir, long maxFileBytes) {
        return open(dir, maxFileBytes, Retention.KEEP_ALL);
    }

    /**
     * Opens (creating, 0700/0600) the trail in {@code dir}, continuing the chain of what is already there.
     *
     * @throws IllegalStateException when the files end before the anchored head: records were cut from the end
     */
    public static AuditLog open(Path dir, long maxFileBytes, Retention retention) {
        AutoglmHome.createPrivateDirectory(dir);
        AuditLog log = new AuditLog(dir, maxFileBytes, retention);
        try {
            AuditAnchor a = AuditAnchor.read(dir);
            log.resume();
            if (a != null && a.headSeq() >= log.nextSeq) {
                throw new IllegalStateException("the audit trail in " + dir + " ends at seq " + (log.nextSeq - 1) + " but its anchor ("
                        + AuditAnchor.FILE + ") says seq " + a.headSeq() + " was written: records were removed from its end. "
                        + "Run 'autoglm audit verify'; move the directory aside to start a new trail");
            }
            log.anchor = a != null ? a : AuditAnchor.empty();
            synchronized (log.anchorLock) {
                log.anchor = log.anchor.withHead(log.nextSeq - 1, log.lastHash);
                log.anchor.write(dir);
            }
            log.prune();
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
        head = new Head(nextSeq - 1, lastHash, written);
        durable.accumulateAndGet(written, Math::max);
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
     * @throws AuditUnavailableException when it cannot be written or synced: the request must fail
     */
    public long append(ObjectNode record) {
        long end;
        long seq;
        synchronized (appendLock) {
            if (fenced) repair();
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
                cutTornTail();
                throw failed("write", e);
            }
            nextSeq = seq + 1;
            lastHash = sha256Hex(bytes);
            liveBytes += bytes.length + 1;
            end = written + bytes.length + 1;
            written = end;
            head = new Head(seq, lastHash, end);
        }
        awaitDurable(end);
        if (failing) recovered();
        return seq;
    }

    /**
     * Under appendLock, after a failed write: the file may end in part of a line. Cut it back to the last whole line
     * now, so the next record starts on a line of its own; if that fails too, fence the log until {@link #repair}.
     */
    private void cutTornTail() {
        try {
            if (channel.isOpen() && channel.size() > liveBytes) channel.truncate(liveBytes);
            if (!channel.isOpen()) fenced = true;
        } catch (IOException | RuntimeException e) {
            fenced = true;
        }
    }

    /** Under appendLock: re-reads the trail's end as at start-up (dropping a torn line), or fails the append. */
    private void repair() {
        try {
            try {
                channel.close();
            } catch (IOException ignored) {
                // reopened below
            }
            resume();
            fenced = false;
        } catch (IOException | RuntimeException e) {
            throw failed("repair", e);
        }
    }

    private AuditUnavailableException failed(String what, Exception e) {
        failures.incrementAndGet();
        if (!failing) {
            failing = true;
            // One loud line (no trace: the cause is the message), not one per refused request.
            LOG.severe("AUDIT TRAIL UNAVAILABLE: cannot " + what + " the audit trail in " + dir + ": " + e
                    + "; requests are refused with 503 until a record can be written again");
        }
        return new AuditUnavailableException("cannot " + what + " the audit trail in " + dir + ": " + e.getMessage(), e);
    }

    private void recovered() {
        synchronized (appendLock) {
            if (!failing) return;
            failing = false;
            LOG.warning("audit trail in " + dir + " is writable again; " + failures.getAndSet(0) + " request(s) were refused meanwhile");
        }
    }

    /** Group commit: returns once every byte up to {@code end} has been synced, by this thread or another. */
    private void awaitDurable(long end) {
        while (durable.get() < end) {
            synchronized (syncLock) {
                if (durable.get() >= end) return;
                Head h = head;              // read before the channel: a rotation after this has synced these bytes
                FileChannel ch = channel;
                try {
                    ch.force(false);
                    durable.accumulateAndGet(h.written, Math::max);
                    anchorHead(h);
                } catch (ClosedChannelException rotated) {
                    // the rotation synced the old file and moved `durable` on; look again
                } catch (IOException e) {
                    synchronized (appendLock) {
                        fenced = true; // what is on disk is unknown now: re-read it before the next record
                    }
                    throw failed("sync", e);
                }
            }
        }
    }

    /**
     * Moves the anchor's head on to {@code h} (never back). A failure is logged (once per streak) but fails no
     * request: the record itself is durable, and the anchor only lags (it catches less truncation) until the next
     * sync writes it.
     */
    private void anchorHead(Head h) {
        synchronized (anchorLock) {
            if (h.seq <= anchor.headSeq()) return;
            try {
                anchor.withHead(h.seq, h.hash).write(dir);
                anchor = anchor.withHead(h.seq, h.hash);
                if (anchorFailing) {
                    anchorFailing = false;
                    LOG.warning("audit anchor in " + dir + " is written again");
                }
            } catch (IOException | RuntimeException e) {
                if (!anchorFailing) {
                    anchorFailing = true;
                    LOG.warning("cannot update the audit anchor in " + dir + ": " + e + "; it lags the trail until it can be written");
                }
            }
        }
    }

    /** Under appendLock: sync and close the live file, rename it after its first seq, start a new one. */
    private void rotate() throws IOException {
        channel.force(false);
        durable.accumulateAndGet(written, Math::max);
        anchorHead(head);
        channel.close();
        Path live = dir.resolve(LIVE);
        Files.move(live, dir.resolve(AuditFiles.rotatedName(liveFirstSeq)));
        channel = AutoglmHome.openAppend(live);
        liveBytes = 0;
        liveFirstSeq = nextSeq;
        try {
            prune();
        } catch (IOException e) {
            // Keeping a file too long is no reason to refuse requests.
            LOG.warning("audit retention: " + e.getMessage());
        }
    }

    /**
     * Deletes the oldest rotated files beyond the retention limits, oldest first, moving the anchor's base past each
     * one before it goes (so a crash in between leaves an anchor that still verifies).
     */
    private void prune() throws IOException {
        if (retention.maxFiles() == 0 && retention.maxAge() == null) return;
        List<Path> rotated = AuditFiles.rotated(dir);
        Instant oldest = retention.maxAge() == null ? null : Instant.now().minus(retention.maxAge());
        for (int i = 0; i < rotated.size(); i++) {
            Path f = rotated.get(i);
            boolean tooMany = retention.maxFiles() > 0 && rotated.size() - i > retention.maxFiles();
            boolean tooOld = oldest != null && Files.getLastModifiedTime(f).toInstant().isBefore(oldest);
            if (!tooMany && !tooOld) break;
            byte[] last = AuditFiles.lastLine(f);
            if (last != null) {
                long lastSeq = MAPPER.readTree(last).path("seq").asLong(-1);
                if (lastSeq < 0) throw new IOException(f + ": its last line is not an audit record; not deleting it");
                synchronized (anchorLock) {
                    anchor = anchor.withBase(lastSeq + 1, sha256Hex(last));
                    anchor.write(dir);
                }
            }
            Files.delete(f);
            LOG.info(() -> "audit retention: deleted " + f.getFileName());
        }
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
