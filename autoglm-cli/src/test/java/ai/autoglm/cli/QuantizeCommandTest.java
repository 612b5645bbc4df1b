package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code autoglm imatrix} and {@code autoglm quantize} end to end, and their answers to bad input. */
class QuantizeCommandTest {
    @TempDir
    static Path dir;
    static Path gguf;
    static Path hf;
    static Path text;

    @BeforeAll
    static void writeModels() throws IOException {
        ModelFixtures.Spec spec = ModelFixtures.llama().withDims(256, 4, 2, 512);
        gguf = ModelFixtures.writeGguf(spec, dir.resolve("llama-f32.gguf"), GgmlType.F32);
        hf = ModelFixtures.writeHf(spec, dir.resolve("llama-hf"), "F16");
        text = Files.writeString(dir.resolve("calib.txt"), "hello world, the world! hello the world, hello world! ".repeat(20));
    }

    @Test
    void imatrixThenQuantizeWithIt() throws IOException {
        Path im = dir.resolve("calib.imatrix.gguf");
        CliRunner.Result r = CliRunner.run("imatrix", "--model", gguf.toString(), "--text", text.toString(), "-o", im.toString(), "-c", "32");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("chunk 1/").contains("wrote " + im);
        try (GgufFile g = GgufFile.open(im)) {
            assertThat(g.metadata().get("general.type").asString()).isEqualTo("imatrix");
            assertThat(g.tensorInfo("blk.0.attn_q.weight.in_sum2")).isNotNull();
        }
        Path out = dir.resolve("q4_k.gguf");
        r = CliRunner.run("quantize", "--model", gguf.toString(), "--type", "q4_k", "--imatrix", im.toString(),
                "--tensor-type", "attn_k=q8_0", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("blk.0.attn_v.weight").contains("imatrix").contains("--tensor-type attn_k=q8_0").contains("wrote " + out);
        try (GgufFile q = GgufFile.open(out)) {
            assertThat(q.getLong("general.file_type", -1)).isEqualTo(15);
            assertThat(q.tensorInfo("blk.1.attn_k.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(q.tensorInfo("blk.1.attn_q.weight").type()).isEqualTo(GgmlType.Q4_K);
            // 2 layers: use_more_bits(i, 2) holds for i >= 7*2/8 = 1 only
            assertThat(q.tensorInfo("blk.0.attn_v.weight").type()).isEqualTo(GgmlType.Q4_K);
            assertThat(q.tensorInfo("blk.1.attn_v.weight").type()).isEqualTo(GgmlType.Q6_K);
            assertThat(q.getString("quantize.imatrix.file", null)).isEqualTo(im.toString());
        }
        try (LanguageModel m = ModelLoader.load(out)) {
            for (float v : m.forward(m.newState(3), new int[]{1, 2, 3}, 0, 3, false)) assertThat(v).isFinite();
        }
        Path legacy = dir.resolve("calib.dat");
        r = CliRunner.run("imatrix", "--model", hf.toString(), "--text", text.toString(), "-o", legacy.toString(), "-c", "32", "--chunks", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("legacy .dat").contains("2 chunks");
    }

    @Test
    void quantizesAHuggingFaceDirectoryAndDryRunsAPlan() {
        Path out = dir.resolve("from-hf.gguf");
        CliRunner.Result r = CliRunner.run("quantize", "-m", hf.toString(), "--type", "q8_0", "-q", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err().lines().count()).isEqualTo(1); // -q: only the summary
        try (GgufFile q = GgufFile.open(out)) {
            assertThat(q.tensorInfo("output.weight").type()).isEqualTo(GgmlType.Q8_0);
        }
        r = CliRunner.run("quantize", "-m", gguf.toString(), "--type", "q4_k_s", "--dry-run");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("blk.0.attn_v.weight").contains("q5_k").contains("bits per weight");
    }

    @Test
    void badInputExitsTwoWithOneLineAndWritesNothing() throws IOException {
        Path corrupt = dir.resolve("corrupt.gguf");
        byte[] head = Files.readAllBytes(gguf);
        Files.write(corrupt, Arrays.copyOf(head, 200)); // a truncated header
        Path notImatrix = dir.resolve("junk.dat");
        Files.write(notImatrix, new byte[]{1, 2, 3});
        Path out = dir.resolve("bad-out.gguf");
        List<String[]> cases = List.of(
                new String[]{"quantize", "-m", corrupt.toString(), "--type", "q4_0", out.toString()},
                new String[]{"quantize", "-m", gguf.toString(), "--type", "q3_k", out.toString()},
                new String[]{"quantize", "-m", gguf.toString(), "--type", "q4_0", "--tensor-type", "attn_(v=q8_0", out.toString()},
                new String[]{"quantize", "-m", gguf.toString(), "--type", "q4_0", "--tensor-type", "attn_v=q9_9", out.toString()},
                new String[]{"quantize", "-m", gguf.toString(), "--type", "q4_0", "--imatrix", dir.resolve("missing.gguf").toString(), out.toString()},
                new String[]{"quantize", "-m", gguf.toString(), "--type", "q4_0", "--imatrix", notImatrix.toString(), out.toString()},
                new String[]{"quantize", "-m", dir.resolve("nope.gguf").toString(), "--type", "q4_0", out.toString()},
                new String[]{"imatrix", "-m", gguf.toString(), "--text", dir.resolve("missing.txt").toString(), "-o", out.toString()},
                new String[]{"imatrix", "-m", corrupt.toString(), "--text", text.toString(), "-o", out.toString()},
                new String[]{"imatrix", "-m", gguf.toString(), "--text", text.toString(), "-o", out.toString(), "-c", "100000", "--chunk", "50"});
        for (String[] args : cases) {
            CliRunner.Result r = CliRunner.run(args);
            String what = String.join(" ", args);
            assertThat(r.exitCode()).as(what + "\n" + r.err()).isEqualTo(2);
            List<String> errorLines = r.err().lines().filter(l -> l.startsWith("autoglm: error: ")).toList();
            assertThat(errorLines).as(what + "\n" + r.err()).hasSize(1);
            assertThat(r.err()).as(what).doesNotContain("\tat ");
            assertThat(out).as(what).doesNotExist();
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".")); // no temp or spool file left
        }
    }

    /**
     * Issue 15 item 15: spools of killed runs (a process id that no longer runs, or the old naming without one) are
     * removed by the next quantization, beside the output and in the spool directory; a live process's spool is kept;
     * this run's own spool is gone at the end.
     */
    @Test
    void staleSpoolsOfKilledRunsAreRemovedAndALiveOnesKept() throws IOException {
        Path outDir = Files.createDirectories(dir.resolve("stale-out"));
        Path spoolDir = Files.createDirectories(dir.resolve("stale-spool"));
        // 999999999 is above Linux's pid_max (4194304): never a live process. Pid 1 always runs.
        Path deadBeside = Files.write(outDir.resolve(".autoglm-quantize-999999999-123.spool"), new byte[1000]);
        Path legacy = Files.write(outDir.resolve(".autoglm-quantize-5837261029384756.spool"), new byte[1000]);
        Path deadInSpoolDir = Files.write(spoolDir.resolve(".autoglm-quantize-999999998-77.spool"), new byte[1000]);
        Path live = Files.write(spoolDir.resolve(".autoglm-quantize-1-42.spool"), new byte[10]);
        Path out = outDir.resolve("q8.gguf");
        CliRunner.Result r = CliRunner.run("quantize", "-m", gguf.toString(), "--type", "q8_0", "-q", "--spool-dir", spoolDir.toString(), out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(deadBeside).doesNotExist();
        assertThat(legacy).doesNotExist();
        assertThat(deadInSpoolDir).doesNotExist();
        assertThat(live).exists();
        try (Stream<Path> s = Files.list(spoolDir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly(live.getFileName().toString());
        }
        try (Stream<Path> s = Files.list(outDir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("q8.gguf");
        }
    }

    /**
     * A full disk where the spool is written: one error line that names the spool file and says what to do, exit 2,
     * nothing left behind. Needs a small tmpfs (root); skipped with the reason otherwise, and fails under CI=true.
     */
    @Test
    void noSpaceLeftNamesTheSpoolFile() throws Exception {
        Path full = Files.createDirectories(dir.resolve("full"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full.toString()).redirectErrorStream(true).start();
        String why = new String(mount.getInputStream().readAllBytes());
        if (mount.waitFor() != 0) {
            String reason = "cannot mount a 64 KiB tmpfs to fill (needs root): " + why.strip();
            if ("true".equals(System.getenv("CI"))) throw new AssertionError(reason);
            org.junit.jupiter.api.Assumptions.abort(reason);
        }
        try {
            Path out = dir.resolve("nospace.gguf");
            CliRunner.Result r = CliRunner.run("quantize", "-m", gguf.toString(), "--type", "q8_0", "-q", "--spool-dir", full.toString(), out.toString());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            List<String> errorLines = r.err().lines().filter(l -> l.startsWith("autoglm: error: ")).toList();
            assertThat(errorLines).hasSize(1);
            assertThat(errorLines.getFirst()).contains(full + "/.autoglm-quantize-").contains(".spool").contains("No space left on device")
                    .contains("--spool-dir");
            assertThat(out).doesNotExist();
            try (Stream<Path> s = Files.list(full)) {
                assertThat(s.toList()).isEmpty();
            }
        } finally {
            new ProcessBuilder("umount", full.toString()).start().waitFor();
        }
    }

    /**
     * A quantization stopped by SIGTERM (Ctrl-C, a service stop) while its spool exists: the shutdown hook deletes the
     * spool, and no output is left. A real child JVM running the command; the model is large enough that it is still
     * working when the signal comes (exit 143, not 0, proves the signal cut it short).
     */
    @Test
    void sigtermDeletesTheSpool() throws Exception {
        Path big = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(1024, 8, 4, 4096), dir.resolve("big-f32.gguf"), GgmlType.F32);
        Path spoolDir = Files.createDirectories(dir.resolve("sigterm-spool"));
        Path out = dir.resolve("sigterm.gguf");
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), AutoglmCli.class.getName(),
                "quantize", "-m", big.toString(), "--type", "q4_k", "--spool-dir", spoolDir.toString(), out.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sigterm.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
            boolean seen = false;
            while (!seen && p.isAlive() && System.nanoTime() < deadline) {
                try (Stream<Path> s = Files.list(spoolDir)) {
                    seen = s.anyMatch(f -> f.getFileName().toString().endsWith(".spool"));
                }
                if (!seen) Thread.sleep(2);
            }
            assertThat(seen).as("the spool appeared while quantizing; log:%n%s", Files.readString(dir.resolve("sigterm.log"))).isTrue();
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("stopped by the signal, not finished").isEqualTo(143);
        } finally {
            p.destroyForcibly();
        }
        try (Stream<Path> s = Files.list(spoolDir)) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(out).doesNotExist();
    }
}
