package ai.autoglm.server.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each kind of tampering with a rotated audit trail is reported at the right record; the trail is written by
 * {@link AuditLog} and changed here line by line, as an intruder with a text editor would.
 */
class AuditTamperTest {
    @TempDir
    Path dir;
    List<Path> files;

    @BeforeEach
    void write() throws Exception {
        try (AuditLog log = AuditLog.open(dir, 2048)) {
            for (int i = 0; i < 60; i++) {
                ObjectNode r = new ObjectMapper().createObjectNode();
                r.put("route", "/v1/models");
                r.put("status", 200);
                r.put("n", i);
                log.append(r);
            }
        }
        try (Stream<Path> l = Files.list(dir)) {
            files = new ArrayList<>(l.filter(p -> p.getFileName().toString().startsWith("audit-")).sorted().toList());
        }
        files.add(dir.resolve("audit.jsonl"));
        assertThat(files.size()).as("rotated at least twice").isGreaterThanOrEqualTo(3);
    }

    List<String> lines(int file) throws Exception {
        return new ArrayList<>(Files.readAllLines(files.get(file), StandardCharsets.UTF_8));
    }

    void put(int file, List<String> lines) throws Exception {
        Files.writeString(files.get(file), lines.isEmpty() ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    AuditVerifier.Problem verify() {
        // files given newest first: the verifier orders them by their records
        AuditVerifier.Report r = AuditVerifier.verify(files.reversed());
        assertThat(r.problem()).as("tampering must be found").isNotNull();
        return r.problem();
    }

    static String sha256(String line) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void untouchedTrailVerifiesAndContinuesAfterReopening() throws Exception {
        try (AuditLog log = AuditLog.open(dir, 2048)) {
            log.append(new ObjectMapper().createObjectNode().put("n", 60));
        }
        AuditVerifier.Report r = AuditVerifier.verify(List.of(dir));
        assertThat(r.problem()).isNull();
        assertThat(r.records()).isEqualTo(61);
        assertThat(r.lastSeq()).isEqualTo(60);
    }

    @Test
    void editedRecord() throws Exception {
        List<String> l = lines(1);
        String target = l.get(2);
        l.set(2, target.replace("\"status\":200", "\"status\":500"));
        put(1, l);
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.EDITED);
        assertThat(p.seq()).isEqualTo(new ObjectMapper().readTree(target).get("seq").asLong());
        assertThat(p.file()).isEqualTo(files.get(1));
        assertThat(p.line()).isEqualTo(3);
    }

    @Test
    void removedRecord() throws Exception {
        List<String> l = lines(1);
        long removedSeq = new ObjectMapper().readTree(l.get(2)).get("seq").asLong();
        l.remove(2);
        put(1, l);
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.REMOVED);
        assertThat(p.seq()).isEqualTo(removedSeq + 1); // shows at the record after the gap
        assertThat(p.detail()).contains(removedSeq + ".." + removedSeq);
    }

    @Test
    void insertedRecordEvenWithAValidPrevHash() throws Exception {
        List<String> l = lines(1);
        ObjectNode before = (ObjectNode) new ObjectMapper().readTree(l.get(2));
        ObjectNode forged = new ObjectMapper().createObjectNode();
        forged.put("seq", before.get("seq").asLong() + 1);
        forged.put("prev", sha256(l.get(2)));
        forged.put("route", "/v1/chat/completions");
        forged.put("status", 200);
        l.add(3, forged.toString());
        put(1, l);
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.INSERTED);
        assertThat(p.line()).isEqualTo(4);
        assertThat(p.file()).isEqualTo(files.get(1));
    }

    @Test
    void reorderedRecords() throws Exception {
        List<String> l = lines(1);
        long second = new ObjectMapper().readTree(l.get(3)).get("seq").asLong();
        String a = l.get(2);
        l.set(2, l.get(3));
        l.set(3, a);
        put(1, l);
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.REORDERED);
        assertThat(p.seq()).isEqualTo(second);
        assertThat(p.line()).isEqualTo(3);
    }

    @Test
    void truncationAtTheRotationBoundary() throws Exception {
        List<String> old = lines(0);
        long lastKept = new ObjectMapper().readTree(old.get(old.size() - 3)).get("seq").asLong();
        put(0, old.subList(0, old.size() - 2));
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.REMOVED);
        assertThat(p.file()).isEqualTo(files.get(1));
        assertThat(p.line()).isEqualTo(1);
        assertThat(p.detail()).contains((lastKept + 1) + ".." + (lastKept + 2));
    }

    @Test
    void aWholeRotatedFileMissingIsARemoval() throws Exception {
        Files.delete(files.get(1));
        files.remove(1);
        assertThat(verify().kind()).isEqualTo(AuditVerifier.Kind.REMOVED);
    }

    @Test
    void garbageLineIsAnEdit() throws Exception {
        List<String> l = lines(2);
        l.set(0, "{not json");
        put(2, l);
        AuditVerifier.Problem p = verify();
        assertThat(p.kind()).isEqualTo(AuditVerifier.Kind.EDITED);
        assertThat(p.file()).isEqualTo(files.get(2));
    }

    @Test
    void unfinishedLastLineFromACrashIsDroppedOnReopen() throws Exception {
        Files.writeString(files.getLast(), "{\"seq\":60,\"prev\":\"abc", java.nio.file.StandardOpenOption.APPEND);
        try (AuditLog log = AuditLog.open(dir, 2048)) {
            assertThat(log.append(new ObjectMapper().createObjectNode().put("n", 60))).isEqualTo(60);
        }
        assertThat(AuditVerifier.verify(List.of(dir)).problem()).isNull();
    }
}
