package ai.autoglm.server.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The audit trail's checkpoint, {@code audit-anchor.json} beside its files: the durable head (seq and SHA-256 of the
 * newest synced record) and the base (the first seq the files must still hold and the hash it chains to, which is
 * where retention cut the trail). A hash chain alone cannot show records cut from either end; with the anchor,
 * {@link AuditVerifier} sees both: files that end before the anchored head, or start after the anchored base.
 *
 * <p>The anchor is rewritten (temp file, then rename) after every group-commit sync, so it never points past what is
 * on disk: it may lag the trail after a crash (that is not a problem: the head only has to be in the files), never
 * lead it. It is not fsynced itself: a stale anchor after a power cut is safe, and an fsync per batch would double
 * the trail's cost. Anyone who can rewrite the trail can rewrite the anchor too: copy the head off the machine
 * ({@code autoglm audit verify} prints it) to catch that.
 *
 * @param headSeq  the newest record known durable, -1 for an empty trail
 * @param headHash its SHA-256 ({@link AuditLog#GENESIS} for an empty trail)
 * @param baseSeq  the first seq the files must hold (0 until retention removed a file)
 * @param basePrev the {@code prev} of the record at {@code baseSeq}
 */
public record AuditAnchor(long headSeq, String headHash, long baseSeq, String basePrev) {
    public static final String FILE = "audit-anchor.json";

    static AuditAnchor empty() {
        return new AuditAnchor(-1, AuditLog.GENESIS, 0, AuditLog.GENESIS);
    }

    AuditAnchor withHead(long seq, String hash) {
        return new AuditAnchor(seq, hash, baseSeq, basePrev);
    }

    AuditAnchor withBase(long seq, String prev) {
        return new AuditAnchor(headSeq, headHash, seq, prev);
    }

    /** The anchor in {@code dir}, or null when there is none. */
    public static AuditAnchor read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) return null;
        JsonNode n = AuditLog.MAPPER.readTree(Files.readAllBytes(f));
        if (n == null || !n.path("head_seq").isIntegralNumber() || !n.path("head_hash").isTextual()
                || !n.path("base_seq").isIntegralNumber() || !n.path("base_prev").isTextual()) {
            throw new IOException(f + " is not an audit anchor (head_seq, head_hash, base_seq, base_prev)");
        }
        return new AuditAnchor(n.get("head_seq").asLong(), n.get("head_hash").asText(), n.get("base_seq").asLong(), n.get("base_prev").asText());
    }

    /** Replaces the anchor in {@code dir} (temp file + rename; not synced, see the class comment). */
    void write(Path dir) throws IOException {
        ObjectNode n = AuditLog.MAPPER.createObjectNode();
        n.put("head_seq", headSeq);
        n.put("head_hash", headHash);
        n.put("base_seq", baseSeq);
        n.put("base_prev", basePrev);
        byte[] bytes = AuditLog.MAPPER.writeValueAsBytes(n);
        Path target = dir.resolve(FILE);
        Path tmp = dir.resolve("." + FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), AutoglmHome.privateFile())) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
