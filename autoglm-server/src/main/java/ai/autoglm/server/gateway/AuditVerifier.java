package ai.autoglm.server.gateway;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks an audit trail's hash chain ({@link AuditLog}) across its files and names the first record that was
 * edited, removed, inserted or reordered. Files are put in chain order by their first record's seq, whatever order
 * they are given in (a directory stands for its rotated files and its live file).
 *
 * <p>What a chain cannot show: records cut from the end of the newest file, or a trail rewritten from some point
 * on with freshly computed hashes. Keep the head ({@link Report#headHash}) somewhere else to catch those.
 */
public final class AuditVerifier {
    /** What the check found. {@code problem} is null when the chain is whole. */
    public record Report(long records, long firstSeq, long lastSeq, String headHash, Problem problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    public enum Kind { EDITED, REMOVED, INSERTED, REORDERED }

    /** The first break: the record (file and 1-based line) where it shows, and what happened there. */
    public record Problem(Kind kind, Path file, int line, long seq, String detail) {
        @Override
        public String toString() {
            return file + ":" + line + (seq >= 0 ? " (seq " + seq + ")" : "") + ": " + kind.name().toLowerCase() + ": " + detail;
        }
    }

    private record Entry(Path file, int line, byte[] bytes, String hash, long seq, String prev) {
    }

    private AuditVerifier() {
    }

    public static Report verify(List<Path> paths) {
        List<List<Entry>> files = new ArrayList<>();
        for (Path p : expand(paths)) files.add(read(p));
        files.removeIf(List::isEmpty);
        files.sort(Comparator.comparingLong(AuditVerifier::startSeq));
        List<Entry> all = files.stream().flatMap(List::stream).toList();
        if (all.isEmpty()) return new Report(0, -1, -1, AuditLog.GENESIS, null);
        Map<String, Integer> indexOfHash = new HashMap<>();
        for (int i = 0; i < all.size(); i++) indexOfHash.putIfAbsent(all.get(i).hash, i);

        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            if (e.seq < 0 || e.prev == null) {
                return report(all, new Problem(Kind.EDITED, e.file, e.line, -1, "not a well-formed audit record (JSON with seq and prev)"));
            }
            if (i == 0) {
                if (e.seq == 0 && !e.prev.equals(AuditLog.GENESIS)) {
                    return report(all, new Problem(Kind.EDITED, e.file, e.line, e.seq, "the first record must chain to " + AuditLog.GENESIS));
                }
                continue;
            }
            Entry before = all.get(i - 1);
            if (e.prev.equals(before.hash) && e.seq == before.seq + 1) continue;
            Problem p = classify(all, indexOfHash, i);
            return report(all, p);
        }
        return report(all, null);
    }

    /** Why the chain breaks between records i-1 and i. */
    private static Problem classify(List<Entry> all, Map<String, Integer> indexOfHash, int i) {
        Entry e = all.get(i);
        Entry before = all.get(i - 1);
        Integer target = indexOfHash.get(e.prev);
        if (target != null && target > i) {
            return new Problem(Kind.REORDERED, e.file, e.line, e.seq, "it follows record seq " + all.get(target).seq
                    + ", which comes after it in the files");
        }
        if (target != null && target < i - 1) {
            Entry first = all.get(target + 1);
            return new Problem(Kind.INSERTED, first.file, first.line, first.seq, (i - 1 - target)
                    + " record(s) between seq " + all.get(target).seq + " and seq " + e.seq + " are not part of the chain");
        }
        if (i + 1 < all.size() && before.hash.equals(all.get(i + 1).prev)) {
            return new Problem(Kind.INSERTED, e.file, e.line, e.seq, "the record after it chains to the one before it");
        }
        if (e.prev.equals(before.hash)) {
            return new Problem(Kind.EDITED, e.file, e.line, e.seq, "its seq should be " + (before.seq + 1));
        }
        boolean gap = e.seq > before.seq + 1 && (i < 2 || e.seq != all.get(i - 2).seq + 2);
        if (gap) {
            return new Problem(Kind.REMOVED, e.file, e.line, e.seq, "records seq " + (before.seq + 1) + ".." + (e.seq - 1)
                    + " are missing before it (after " + before.file.getFileName() + ":" + before.line + ")");
        }
        boolean selfIntact = i + 1 >= all.size() || all.get(i + 1).prev.equals(e.hash);
        Entry edited = selfIntact ? before : e;
        return new Problem(Kind.EDITED, edited.file, edited.line, edited.seq, selfIntact
                ? "its content no longer matches the hash the next record holds"
                : "its prev field does not match the record before it");
    }

    /** Where a file sits in the chain: its first well-formed record's seq, less that record's line index. */
    private static long startSeq(List<Entry> file) {
        for (int i = 0; i < file.size(); i++) {
            if (file.get(i).seq >= 0) return file.get(i).seq - i;
        }
        return Long.MAX_VALUE;
    }

    private static Report report(List<Entry> all, Problem p) {
        Entry last = all.getLast();
        return new Report(all.size(), all.getFirst().seq, last.seq, last.hash, p);
    }

    private static List<Path> expand(List<Path> paths) {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try {
                    out.addAll(AuditFiles.rotated(p));
                } catch (IOException e) {
                    throw new UncheckedIOException(p + ": " + e.getMessage(), e);
                }
                if (Files.exists(p.resolve(AuditLog.LIVE))) out.add(p.resolve(AuditLog.LIVE));
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private static List<Entry> read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        List<Entry> entries = new ArrayList<>();
        int start = 0;
        int line = 1;
        for (int i = 0; i <= data.length; i++) {
            if (i == data.length && i == start) break; // nothing after the last newline
            if (i < data.length && data[i] != '\n') continue;
            byte[] bytes = java.util.Arrays.copyOfRange(data, start, i);
            long seq = -1;
            String prev = null;
            try {
                JsonNode n = AuditLog.MAPPER.readTree(bytes);
                if (n != null && n.path("seq").isIntegralNumber() && n.path("prev").isTextual()) {
                    seq = n.get("seq").asLong();
                    prev = n.get("prev").asText();
                }
            } catch (IOException notJson) {
                // reported as an edited record
            }
            entries.add(new Entry(file, line++, bytes, AuditLog.sha256Hex(bytes), seq, prev));
            start = i + 1;
        }
        return entries;
    }
}
