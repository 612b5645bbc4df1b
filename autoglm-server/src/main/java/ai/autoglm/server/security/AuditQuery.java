package ai.autoglm.server.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Reading the audit trail for the admin API: the newest records that match a filter, and the chain check
 * ({@link AuditVerifier}) as JSON. Files are streamed line by line (a trail can be many 64 MiB files); only the
 * newest {@code limit} matches are held. A line that is not JSON is listed as it is (flagged {@code unreadable}),
 * never skipped: the reader of an audit trail must see what is there.
 *
 * @param key    the key name, or null for any
 * @param model  the model alias, or null for any
 * @param status an HTTP status ({@code 403}) or class ({@code 4xx}), or null for any
 * @param since  records at or after this time, or null
 * @param until  records before this time, or null
 * @param limit  at most this many (the newest)
 */
public record AuditQuery(String key, String model, String status, Instant since, Instant until, int limit) {
    public static final int MAX_LIMIT = 1000;

    public AuditQuery {
        if (status != null && !status.matches("[1-5](\\d\\d|xx)")) {
            throw new IllegalArgumentException("status must be an HTTP status like 403 or a class like 4xx, got '" + status + "'");
        }
        if (limit < 1 || limit > MAX_LIMIT) throw new IllegalArgumentException("limit must be in 1.." + MAX_LIMIT + ", got " + limit);
    }

    /** Parses an ISO-8601 instant ({@code 2025-01-31T12:00:00Z}) for {@code param}; null stays null. */
    public static Instant instant(String param, String value) {
        if (value == null || value.isBlank()) return null;
        try {
            return Instant.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(param + " must be an ISO-8601 time like 2025-01-31T12:00:00Z, got '" + value + "'");
        }
    }

    /** The newest matching records in {@code dir}, newest first, each with its {@code file} and {@code line}. */
    public ObjectNode run(Path dir) {
        Deque<ObjectNode> newest = new ArrayDeque<>();
        long[] matched = {0};
        for (Path f : files(dir)) {
            try (BufferedReader in = reader(f)) {
                String text;
                int line = 0;
                while ((text = in.readLine()) != null) {
                    line++;
                    ObjectNode r = parse(text);
                    if (!matches(r)) continue;
                    r.put("file", f.getFileName().toString());
                    r.put("line", line);
                    matched[0]++;
                    newest.addLast(r);
                    if (newest.size() > limit) newest.removeFirst();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the audit file " + f.getFileName() + ": " + e.getMessage(), e);
            }
        }
        ObjectNode root = AuditLog.MAPPER.createObjectNode();
        root.put("object", "list");
        root.put("matched", matched[0]);
        ArrayNode data = root.putArray("data");
        newest.descendingIterator().forEachRemaining(data::add);
        return root;
    }

    private boolean matches(ObjectNode r) {
        if (r.has("unreadable")) return key == null && model == null && status == null && since == null && until == null;
        if (key != null && !key.equals(r.path("key").asText(null))) return false;
        if (model != null && !model.equals(r.path("model").asText(null))) return false;
        if (status != null) {
            String s = r.path("status").asText("");
            if (status.endsWith("xx") ? !s.startsWith(status.substring(0, 1)) || s.length() != 3 : !s.equals(status)) return false;
        }
        if (since != null || until != null) {
            Instant t;
            try {
                t = Instant.parse(r.path("time").asText(""));
            } catch (DateTimeParseException e) {
                return false;
            }
            if (since != null && t.isBefore(since)) return false;
            if (until != null && !t.isBefore(until)) return false;
        }
        return true;
    }

    private static ObjectNode parse(String text) {
        try {
            JsonNode n = AuditLog.MAPPER.readTree(text);
            if (n instanceof ObjectNode o) return o;
        } catch (IOException notJson) {
            // listed as it is, below
        }
        ObjectNode o = AuditLog.MAPPER.createObjectNode();
        o.put("unreadable", text);
        return o;
    }

    /** The trail's files in chain order: rotated ones (named by first seq), then the live one. */
    static List<Path> files(Path dir) {
        List<Path> out = new ArrayList<>();
        try {
            out.addAll(AuditFiles.rotated(dir));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the audit directory: " + e.getMessage(), e);
        }
        if (Files.exists(dir.resolve(AuditLog.LIVE))) out.add(dir.resolve(AuditLog.LIVE));
        return out;
    }

    /**
     * {@link AuditVerifier#verify} of the whole trail in {@code dir} as JSON: {@code ok}, the record count and seq
     * range, the head hash, the notes, and for a broken chain {@code problem} with its kind, file name (not the
     * server's directories), line, seq, detail and the offending line's text.
     */
    public static ObjectNode verify(Path dir) {
        AuditVerifier.Report r = AuditVerifier.verify(List.of(dir));
        ObjectNode root = AuditLog.MAPPER.createObjectNode();
        root.put("ok", r.ok());
        root.put("records", r.records());
        root.put("first_seq", r.firstSeq());
        root.put("last_seq", r.lastSeq());
        root.put("head_hash", r.headHash());
        ArrayNode notes = root.putArray("notes");
        r.notes().forEach(n -> notes.add(n.replace(dir.toString() + java.io.File.separator, "")));
        if (r.problem() == null) {
            root.putNull("problem");
            return root;
        }
        AuditVerifier.Problem p = r.problem();
        ObjectNode o = root.putObject("problem");
        o.put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT));
        o.put("file", p.file().getFileName().toString());
        o.put("line", p.line());
        if (p.seq() >= 0) o.put("seq", p.seq());
        else o.putNull("seq");
        o.put("detail", p.detail().replace(dir.toString() + java.io.File.separator, ""));
        o.put("record", lineOf(p.file(), p.line()));
        return root;
    }

    /** Line {@code n} (1-based) of {@code file}, or null when there is none. */
    private static String lineOf(Path file, int n) {
        if (!Files.isRegularFile(file)) return null;
        try (BufferedReader in = reader(file)) {
            String text = null;
            for (int i = 0; i < n; i++) {
                text = in.readLine();
                if (text == null) return null;
            }
            return text;
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    /** A reader that replaces bytes that are not UTF-8 (an edited file may hold any) instead of failing on them. */
    private static BufferedReader reader(Path f) throws IOException {
        return new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(f), StandardCharsets.UTF_8));
    }
}
