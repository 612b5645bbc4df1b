package ai.autoglm.cli;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code autoglm eval} on fixture models: the in-memory {@code --quantize q8_0} of an F32 file measures the same as
 * the Q8_0 file the fixture writes from the same weights, against the F32 base; user errors exit 2 with one line.
 */
class EvalCommandTest {
    @TempDir
    Path dir;

    @Test
    void inMemoryQuantizationMeasuresLikeTheQuantizedFile() throws Exception {
        Path f32 = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("f32.gguf"), GgmlType.F32);
        Path q8 = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("q8.gguf"), GgmlType.Q8_0);
        Path text = Files.writeString(dir.resolve("t.txt"), "hello world the world tell her well ".repeat(30));
        CliRunner.Result file = CliRunner.run("eval", "-m", q8.toString(), "--base", f32.toString(), "--text", text.toString(),
                "-c", "32", "--chunks", "3", "--no-speed", "--json");
        CliRunner.Result mem = CliRunner.run("eval", "-m", f32.toString(), "--quantize", "q8_0", "--base", f32.toString(),
                "--text", text.toString(), "-c", "32", "--chunks", "3", "--json");
        assertThat(file.exitCode()).as(file.err()).isZero();
        assertThat(mem.exitCode()).as(mem.err()).isZero();
        JsonNode a = new ObjectMapper().readTree(file.out()), b = new ObjectMapper().readTree(mem.out());
        assertThat(a.get("windows").asInt()).isEqualTo(3);
        assertThat(a.get("scored_tokens").asInt()).isEqualTo(3 * 15);
        // Same bytes, same kernels; but the Vector API leaves the order of a lane reduction open, and the interpreted
        // first run and the JIT-compiled second run sum lanes differently: equal to a few parts per million.
        double kl = a.get("mean_kld").asDouble();
        assertThat(kl).isPositive().isCloseTo(b.get("mean_kld").asDouble(), org.assertj.core.api.Assertions.within(1e-4 * kl));
        double ppl = a.get("perplexity").asDouble();
        assertThat(ppl).isCloseTo(b.get("perplexity").asDouble(), org.assertj.core.api.Assertions.within(1e-6 * ppl));
        assertThat(a.get("same_top1").asDouble()).isEqualTo(b.get("same_top1").asDouble());
        assertThat(b.get("tg_tokens_per_s").asDouble()).isPositive();
        assertThat(a.has("tg_tokens_per_s")).isFalse();
        assertThat(mem.err()).contains("window 3/3");
    }

    @Test
    void userErrorsExit2WithOneLine() throws Exception {
        Path f32 = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("f32.gguf"), GgmlType.F32);
        Path shortText = Files.writeString(dir.resolve("short.txt"), "hello world");
        CliRunner.Result r = CliRunner.run("eval", "-m", f32.toString(), "--text", shortText.toString(), "-c", "32");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("fewer than one window of 32").doesNotContain("Exception");
        assertThat(CliRunner.run("eval", "-m", f32.toString(), "--text", dir.resolve("none.txt").toString()).exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("eval", "-m", f32.toString(), "--text", shortText.toString(), "--quantize", "q3").err())
                .contains("--quantize must be one of");
    }
}
