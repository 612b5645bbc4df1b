package ai.autoglm.cli;

import ai.autoglm.server.security.AuditChains;
import ai.autoglm.server.security.AuditVerifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code autoglm audit verify}: checks the audit trail's hash chain. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Check the server's audit trail.",
        subcommands = AuditCommand.Verify.class)
final class AuditCommand implements Runnable {
    /** The chain is broken: distinct from bad input (2) and internal errors (1). */
    static final int BROKEN = 3;

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Verify the hash chain of audit files (default: the data directory's audit/) and, for a directory, its "
                    + "anchor (records cut from either end); exit 3 naming the first record that was edited, removed, inserted or "
                    + "reordered. An unfinished last line (a crash or a full disk) is a note, not a break.")
    static final class Verify implements Callable<Integer> {
        @Mixin
        HomeOption home;

        @Parameters(paramLabel = "FILE", arity = "0..*", description = "Audit files or directories, in any order.")
        List<Path> files = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            List<Path> paths = files.isEmpty() ? List.of(home.locate().resolve("audit")) : files;
            for (Path p : paths) {
                if (!Files.exists(p)) throw new NoSuchFileException(p.toString());
            }
            Map<String, List<Path>> chains = AuditChains.split(paths);
            if (!(chains.size() == 1 && chains.containsKey(AuditChains.SINGLE))) return verifyReplicas(chains);
            AuditVerifier.Report r = AuditVerifier.verify(paths);
            if (!r.ok()) {
                System.out.println("BROKEN: " + r.problem());
                r.notes().forEach(n -> System.out.println("note: " + n));
                return BROKEN;
            }
            System.out.printf("ok: %d records, seq %d..%d, head sha256 %s%n", r.records(), r.firstSeq(), r.lastSeq(), r.headHash());
            r.notes().forEach(n -> System.out.println("note: " + n));
            System.out.println("note: keep the head hash elsewhere too: whoever can rewrite the trail can rewrite its anchor");
            return 0;
        }

        /** One chain per replica (audit/<replica-id>/), each checked on its own; broken when any is. */
        private static int verifyReplicas(Map<String, List<Path>> chains) {
            int broken = 0;
            long records = 0;
            for (Map.Entry<String, List<Path>> c : chains.entrySet()) {
                String name = c.getKey().isEmpty() ? "(files given)" : c.getKey();
                AuditVerifier.Report r = AuditVerifier.verify(c.getValue());
                if (r.ok()) {
                    records += r.records();
                    System.out.printf("chain %s: ok: %d records, seq %d..%d, head sha256 %s%n", name, r.records(), r.firstSeq(), r.lastSeq(), r.headHash());
                } else {
                    broken++;
                    System.out.println("chain " + name + ": BROKEN: " + r.problem());
                }
                r.notes().forEach(n -> System.out.println("chain " + name + ": note: " + n));
            }
            if (broken > 0) {
                System.out.println("BROKEN: " + broken + " of " + chains.size() + " chains");
                return BROKEN;
            }
            System.out.printf("ok: %d chains, %d records%n", chains.size(), records);
            System.out.println("note: keep the head hashes elsewhere too: whoever can rewrite a trail can rewrite its anchor");
            return 0;
        }
    }
}
