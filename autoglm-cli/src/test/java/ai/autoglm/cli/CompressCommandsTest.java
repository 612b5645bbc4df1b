package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code autoglm prune} and {@code autoglm lowrank} end to end on a random-weight fixture. */
class CompressCommandsTest {
    @TempDir
    static Path dir;
    static Path gguf;
    static Path hfDir;
    static Path calib;
    static final int[] TOKENS = {72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100};

    @BeforeAll
    static void writeModel() throws Exception {
        ModelFixtures.Spec spec = ModelFixtures.llama();
        gguf = ModelFixtures.writeGguf(spec, dir.resolve("llama.gguf"), GgmlType.F32);
        hfDir = ModelFixtures.writeHf(spec, dir.resolve("llama-hf"));
        calib = Files.writeString(dir.resolve("calib.txt"), "hello world, the quick brown fox jumps over the lazy dog. 床前明月光 ".repeat(4));
    }

    private static float[] logits(Path model) {
        try (LanguageModel m = ModelLoader.load(model)) {
            InferenceState s = m.newState(TOKENS.length);
            return m.forward(s, TOKENS, 0, TOKENS.length, true).clone();
        }
    }

    @Test
    void magnitudePruningZeroesHalfOfEachProjection() throws Exception {
        for (Path model : List.of(gguf, hfDir)) {
            Path out = dir.resolve("magnitude-" + model.getFileName() + ".gguf");
            CliRunner.Result r = CliRunner.run("prune", "--model", model.toString(), "--method", "magnitude", "--sparsity", "0.5", out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            try (GgufFile f = GgufFile.open(out)) {
                FloatTensor q = f.tensor("blk.0.attn_q.weight");
                int zeros = 0;
                for (long i = 0; i < q.size(); i++) if (q.getFloat(i) == 0f) zeros++;
                assertThat(zeros).isEqualTo((int) q.size() / 2);
            }
            assertThat(logits(out)).hasSize(TOKENS.length * ModelFixtures.VOCAB_SIZE);
        }
    }

    @Test
    void structuredPruningShrinksTheModelThatLoadsAgain() {
        Path out = dir.resolve("structured.gguf");
        CliRunner.Result r = CliRunner.run("prune", "--model", gguf.toString(), "--heads", "2", "--ffn-keep", "0.5", "--drop-layers", "1",
                "--calib", calib.toString(), out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("layers 2 -> 1", "heads 4/2 -> 2/2", "ffn 160 -> 80");
        try (LanguageModel m = ModelLoader.load(out)) {
            assertThat(m.config().layers()).isEqualTo(1);
            assertThat(m.config().heads()).isEqualTo(2);
            assertThat(m.config().ffnDim()).isEqualTo(80);
        }
        assertThat(out.toFile().length()).isLessThan(gguf.toFile().length());
    }

    @Test
    void wandaAndTwoFourRun() {
        for (String method : List.of("wanda", "2:4")) {
            Path out = dir.resolve("sparse-" + method.replace(':', '_') + ".gguf");
            CliRunner.Result r = CliRunner.run("prune", "--model", gguf.toString(), "--method", method, "--calib", calib.toString(), out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(logits(out)).isNotEqualTo(logits(gguf));
        }
    }

    @Test
    void fullEnergyLowRankKeepsTheLogits() {
        Path out = dir.resolve("lowrank.gguf");
        CliRunner.Result r = CliRunner.run("lowrank", "--model", gguf.toString(), "--energy", "1.0", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("blk.0.attn_q.weight", "factorised 14 tensors");
        float[] expected = logits(gguf), actual = logits(out);
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) assertThat((double) actual[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-4 * max));
    }

    @Test
    void badInputExitsTwoWithOneLineAndWritesNothing() throws Exception {
        Path out = dir.resolve("bad.gguf");
        Files.writeString(out, "keep me");
        List<String[]> cases = List.of(
                new String[]{"prune", "--model", gguf.toString(), "--method", "magnitude", "--sparsity", "1.0", out.toString()},
                new String[]{"prune", "--model", gguf.toString(), "--method", "magnitude", "--sparsity", "-0.1", out.toString()},
                new String[]{"prune", "--model", gguf.toString(), "--method", "wanda", out.toString()},
                new String[]{"prune", "--model", gguf.toString(), "--method", "random", out.toString()},
                new String[]{"prune", "--model", gguf.toString(), "--drop-layers", "0,1", out.toString()},
                new String[]{"prune", "--model", gguf.toString(), "--heads", "3", "--calib", calib.toString(), out.toString()},
                new String[]{"prune", "--model", gguf.toString(), out.toString()},
                new String[]{"prune", "--model", dir.resolve("missing.gguf").toString(), "--method", "magnitude", out.toString()},
                new String[]{"lowrank", "--model", gguf.toString(), "--rank", "100", out.toString()},
                new String[]{"lowrank", "--model", gguf.toString(), "--rank", "4", "--energy", "0.5", out.toString()},
                new String[]{"lowrank", "--model", gguf.toString(), out.toString()},
                new String[]{"lowrank", "--model", gguf.toString(), "--energy", "1.5", out.toString()},
                new String[]{"lowrank", "--model", gguf.toString(), "--rank", "4", "--tensors", "(", out.toString()});
        for (String[] args : cases) {
            CliRunner.Result r = CliRunner.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(2);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).startsWith("autoglm: error: ");
        }
        assertThat(Files.readString(out)).isEqualTo("keep me");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }
}
