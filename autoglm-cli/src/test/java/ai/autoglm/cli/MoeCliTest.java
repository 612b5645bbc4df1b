package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.testing.MoeFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commands on mixture-of-experts files, in-process: {@code info} prints total and active parameters (the numbers
 * worked out here from the fixture's tensor list), and {@code convert} turns a GLM-4.5 HF directory into a glm4moe
 * GGUF with Q8_0 stacked experts.
 */
class MoeCliTest {
    @TempDir
    Path tmp;

    @Test
    void infoShowsTotalAndActiveParameters() {
        MoeFixtures.Spec s = MoeFixtures.glm45();
        Path gguf = MoeFixtures.writeGguf(s, tmp.resolve("glm45.gguf"));
        long total = 0, active = 0;
        for (var e : MoeFixtures.ggufTensors(s, MoeFixtures.hfTensors(s)).entrySet()) {
            long n = e.getValue().values().length;
            total += n;
            if (!e.getKey().startsWith("blk." + s.layers() + ".")) active += e.getKey().contains("_exps.") ? n / s.experts() * s.used() : n;
        }
        CliRunner.Result r = CliRunner.run("info", gguf.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("architecture:  glm4moe")
                .contains(String.format(java.util.Locale.ROOT, "parameters:    %.1fK total, %.1fK active per token", total / 1e3, active / 1e3))
                .contains("experts:       8 routed, 2 used per token, 1 shared, expert ffn 32, 1 leading dense layers, sigmoid gating, 1 MTP block(s) not run");
    }

    @Test
    void convertWritesAGlm4MoeGguf() throws Exception {
        MoeFixtures.Spec s = MoeFixtures.glm45();
        Path hf = MoeFixtures.writeHf(s, tmp.resolve("hf"));
        Path out = tmp.resolve("out.gguf");
        CliRunner.Result r = CliRunner.run("convert", hf.toString(), out.toString(), "--type", "q8_0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getString("general.architecture", null)).isEqualTo("glm4moe");
            assertThat(g.tensorInfo("blk.2.ffn_down_exps.weight").shape()).containsExactly(s.expertFfn(), s.dim(), s.experts());
            assertThat(g.tensorInfo("blk.2.ffn_down_exps.weight").type().name()).isEqualTo("Q8_0");
        }
        CliRunner.Result info = CliRunner.run("info", out.toString());
        assertThat(info.exitCode()).as(info.err()).isZero();
        assertThat(info.out()).contains("active per token");
    }
}
