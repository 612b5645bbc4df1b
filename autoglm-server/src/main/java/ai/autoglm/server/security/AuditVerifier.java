package ai.autoglm.server.security;

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
 * <p>What a chain cannot show: records cut from the end of the newest file or from the start of the oldest, or a
 * trail rewritten from some point on with freshly computed hashes. A directory's {@link AuditAnchor} (the server's
 * checkpoint of its synced head and of where retention cut the trail) shows the first two: files that end before
 * the anchored head or start after the anchored base are reported as {@link Kind#REMOVED}, a head that no longer
 * hashes as anchored as {@link Kind#EDITED}. Keep the head ({@link Report#headHash}) somewhere else to catch a
 * rewrite of the anchor too.
 *
 * <p>A last line without its newline at the very end of the trail is a write cut short (a crash or a full disk),
 * not an edit: its request never got an answer, the server drops it when it next opens the trail, and the report
 * notes it. The same bytes anywhere else are an edit.
 */
public final class AuditVerifier {
    /** What the check found. {@code problem} is null when the chain is whole. */
    public record Report(long records, long firstSeq, long lastSeq, String headHash, Problem problem, List<String> notes) {
        public Report {
            notes = List.copyOf(notes);
        }

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

    private record Entry(Path file, int line, byte[] bytes, String hash, long seq, String prev, boolean unterminated) {
    }

    private AuditVerifier() {
    }

    public static Report verify(List<Path> paths) {
        List<String> notes = new ArrayList<>();
        AuditAnchor anchor = null;
        boolean anchorMissing = false;
        for (Path p : paths) {
            if (!Files.isDirectory(p)) continue;
            try {
                AuditAnchor a = AuditAnchor.read(p);
                if (a == null) anchorMissing = true;
                else if (anchor == null || a.headSeq() > anchor.headSeq()) anchor = a;
            } catch (IOException e) {
                return new Report(0, -1, -1, AuditLog.GENESIS, new Problem(Kind.EDITED, p.resolve(AuditAnchor.FILE), 1, -1,
                        "the anchor cannot be read: " + e.getMessage()), notes);
            }
        }
        List<List<Entry>> files = new ArrayList<>();
        for (Path p : expand(paths)) files.add(read(p));
        files.removeIf(List::isEmpty);
        files.sort(Comparator.comparingLong(AuditVerifier::startSeq));
        List<Entry> all = new ArrayList<>(files.stream().flatMap(List::stream).toList());
        if (!all.isEmpty() && all.getLast().unterminated) {
            Entry torn = all.removeLast();
            notes.add(torn.file + ":" + torn.line + ": the last line is unfinished (" + torn.bytes.length + " bytes, no newline): "
                    + "a write cut short by a crash or a full disk, not an edit; its request was never answered, and the server "
                    + "drops it when it next opens the trail");
        }
        if (anchorMissing && anchor == null && !all.isEmpty()) {
            return report(all, new Problem(Kind.REMOVED, all.getFirst().file.resolveSibling(AuditAnchor.FILE), 1, -1,
                    "the directory has no " + AuditAnchor.FILE + ": the server's checkpoint of the trail's ends was removed"), notes);
        }
        if (all.isEmpty()) {
            if (anchor != null && anchor.headSeq() >= 0) {
                return new Report(0, -1, -1, AuditLog.GENESIS, new Problem(Kind.REMOVED, paths.getFirst(), 1, anchor.baseSeq(),
                        "no records, but the anchor says records seq " + anchor.baseSeq() + ".." + anchor.headSeq() + " were written"), notes);
            }
            return new Report(0, -1, -1, AuditLog.GENESIS, null, notes);
        }
        Map<String, Integer> indexOfHash = new HashMap<>();
        for (int i = 0; i < all.size(); i++) indexOfHash.putIfAbsent(all.get(i).hash, i);

        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            if (e.seq < 0 || e.prev == null || e.unterminated) {
                return report(all, new Problem(Kind.EDITED, e.file, e.line, e.seq < 0 ? -1 : e.seq, e.unterminated
                        ? "a line without its newline in the middle of the trail"
                        : "not a well-formed audit record (JSON with seq and prev)"), notes);
            }
            if (i == 0) {
                if (e.seq == 0 && !e.prev.equals(AuditLog.GENESIS)) {
                    return report(all, new Problem(Kind.EDITED, e.file, e.line, e.seq, "the first record must chain to " + AuditLog.GENESIS), notes);
                }
                continue;
            }
            Entry before = all.get(i - 1);
            if (e.prev.equals(before.hash) && e.seq == before.seq + 1) continue;
            Problem p = classify(all, indexOfHash, i);
            return report(all, p, notes);
        }
        Problem ends = anchor == null ? null : checkAnchor(all, anchor);
        if (anchor == null && all.getFirst().seq > 0) {
            notes.add("the chain starts at seq " + all.getFirst().seq + "; earlier records are not in the files given (no anchor to say where it should start)");
        }
        if (anchor == null) notes.add("no anchor (" + AuditAnchor.FILE + ", in the trail's directory): records cut from the end cannot be seen in these files alone");
        return report(all, ends, notes);
    }

    /** Truncation at either end, against the server's checkpoint: null when the files reach from its base to its head. */
    private static Problem checkAnchor(List<Entry> all, AuditAnchor a) {
        Entry first = all.getFirst();
        Entry last = all.getLast();
        if (first.seq > a.baseSeq()) {
            return new Problem(Kind.REMOVED, first.file, first.line, first.seq, "records seq " + a.baseSeq() + ".." + (first.seq - 1)
                    + " are missing at the start (the anchor says the trail starts at seq " + a.baseSeq() + ")");
        }
        Entry base = a.baseSeq() <= last.seq ? all.get((int) (a.baseSeq() - first.seq)) : null;
        if (base != null && !base.prev.equals(a.basePrev())) {
            return new Problem(Kind.EDITED, base.file, base.line, base.seq, "it does not chain to the record retention removed before it "
                    + "(the anchor holds that record's hash): the start of the trail was rewritten");
        }
        if (last.seq < a.headSeq()) {
            return new Problem(Kind.REMOVED, last.file, last.line + 1, last.seq + 1, "records seq " + (last.seq + 1) + ".." + a.headSeq()
                    + " are missing at the end (the anchor says seq " + a.headSeq() + " was written)");
        }
        if (a.headSeq() >= first.seq) {
            Entry h = all.get((int) (a.headSeq() - first.seq));
            if (!h.hash.equals(a.headHash())) {
                return new Problem(Kind.EDITED, h.file, h.line, h.seq, "it no longer matches the hash the anchor holds for it: the trail was rewritten");
            }
        }
        return null;
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

    private static Report report(List<Entry> all, Problem p, List<String> notes) {
        Entry last = all.getLast();
        return new Report(all.size(), all.getFirst().seq, last.seq, last.hash, p, notes);
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
            entries.add(new Entry(file, line++, bytes, AuditLog.sha256Hex(bytes), seq, prev, i == data.length));
            start = i + 1;
        }
        return entries;
    }
}
