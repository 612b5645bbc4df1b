package ai.autoglm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** autoglm keys create/list/revoke and autoglm audit verify, run in-process. */
class KeysAndAuditCommandsTest {
    @TempDir
    Path dir;

    @Test
    void createListRevoke() throws Exception {
        Path home = dir.resolve("home");
        CliRunner.Result c = CliRunner.run("keys", "create", "--home", home.toString(), "--name", "alice", "--role", "user", "--models", "a,b", "--expires", "30d");
        assertThat(c.exitCode()).as(c.err()).isZero();
        String key = c.out().strip();
        assertThat(key).startsWith("agk_").hasSizeGreaterThan(40);
        assertThat(c.err()).contains("shown only now");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("keys.json")))).isEqualTo("rw-------");
        assertThat(Files.readString(home.resolve("keys.json"))).doesNotContain(key.substring(4));

        CliRunner.Result l = CliRunner.run("keys", "list", "--home", home.toString());
        assertThat(l.out()).contains("alice").contains("user").contains("a,b").contains("active").doesNotContain(key.substring(4, 20));
        assertThat(CliRunner.run("keys", "create", "--home", home.toString(), "--name", "alice", "--role", "user").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("keys", "revoke", "--home", home.toString(), "alice").exitCode()).isZero();
        assertThat(CliRunner.run("keys", "list", "--home", home.toString()).out()).contains("revoked");
        CliRunner.Result again = CliRunner.run("keys", "revoke", "--home", home.toString(), "alice");
        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).contains("no active key named 'alice'");
        CliRunner.Result bad = CliRunner.run("keys", "create", "--home", home.toString(), "--name", "x", "--role", "user", "--expires", "soon");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--expires");
    }

    @Test
    void expiryParsing() {
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        assertThat(KeysCommand.expiry("30d", now)).isEqualTo(now.plus(Duration.ofDays(30)));
        assertThat(KeysCommand.expiry("12h", now)).isEqualTo(now.plus(Duration.ofHours(12)));
        assertThat(KeysCommand.expiry("2026-02-03", now)).isEqualTo(Instant.parse("2026-02-03T00:00:00Z"));
    }

    @Test
    void auditVerifyOkAndBroken() throws Exception {
        Path audit = dir.resolve("audit");
        try (var log = ai.autoglm.server.security.AuditLog.open(audit, 4096)) {
            for (int i = 0; i < 30; i++) log.append(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("status", 200));
        }
        CliRunner.Result ok = CliRunner.run("audit", "verify", audit.toString());
        assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("ok: 30 records, seq 0..29");
        Path live = audit.resolve("audit.jsonl");
        List<String> lines = Files.readAllLines(live);
        lines.set(1, lines.get(1).replace("\"status\":200", "\"status\":201"));
        Files.write(live, lines);
        CliRunner.Result broken = CliRunner.run("audit", "verify", "--home", dir.toString());
        assertThat(broken.exitCode()).isEqualTo(AuditCommand.BROKEN);
        assertThat(broken.out()).contains("audit.jsonl:2").contains("edited");
        assertThat(CliRunner.run("audit", "verify", dir.resolve("nope").toString()).exitCode()).isEqualTo(2);
    }

    /**
     * Issue 15 items 3 and 13: an unfinished last line (a crash or a full disk mid-write) is a note, not tampering, while
     * the same fragment before a later record is an edit; records cut from the end, or the oldest file deleted, are
     * caught by the trail's anchor.
     */
    @Test
    void auditVerifyTellsATornTailFromAnEditAndCatchesTruncationAtBothEnds() throws Exception {
        Path audit = dir.resolve("audit");
        try (var log = ai.autoglm.server.security.AuditLog.open(audit, 1024)) {
            for (int i = 0; i < 30; i++) log.append(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("status", 200));
        }
        Path live = audit.resolve("audit.jsonl");
        byte[] whole = Files.readAllBytes(live);
        Files.write(live, "{\"seq\":30,\"prev\":\"ab".getBytes(), java.nio.file.StandardOpenOption.APPEND);
        CliRunner.Result torn = CliRunner.run("audit", "verify", audit.toString());
        assertThat(torn.exitCode()).as(torn.out() + torn.err()).isZero();
        assertThat(torn.out()).contains("ok: 30 records").contains("unfinished").contains("not an edit");

        Files.write(live, "cd\"}\n".getBytes(), java.nio.file.StandardOpenOption.APPEND); // a fragment with a line after it
        CliRunner.Result glued = CliRunner.run("audit", "verify", audit.toString());
        assertThat(glued.exitCode()).isEqualTo(AuditCommand.BROKEN);
        assertThat(glued.out()).contains("edited");

        List<String> lines = new java.util.ArrayList<>(List.of(new String(whole).split("\n")));
        Files.write(live, lines.subList(0, lines.size() - 1));
        CliRunner.Result cut = CliRunner.run("audit", "verify", audit.toString());
        assertThat(cut.exitCode()).isEqualTo(AuditCommand.BROKEN);
        assertThat(cut.out()).contains("removed").contains("missing at the end");
        Files.write(live, whole);

        try (var files = Files.list(audit)) {
            Path oldest = files.filter(p -> p.getFileName().toString().matches("audit-\\d+\\.jsonl")).sorted().findFirst().orElseThrow();
            Files.delete(oldest);
        }
        CliRunner.Result head = CliRunner.run("audit", "verify", audit.toString());
        assertThat(head.exitCode()).isEqualTo(AuditCommand.BROKEN);
        assertThat(head.out()).contains("removed").contains("missing at the start");
    }
}
