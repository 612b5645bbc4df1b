package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code autoglm bench} on a fixture model: the JSON report's counts and the weight bytes per token, checked against the file. */
class BenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void jsonReportCountsWhatItRanAndTheBytesEachTokenReads() throws Exception {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("m.gguf"), GgmlType.Q8_0);
        CliRunner.Result r = CliRunner.run("bench", "-m", gguf.toString(), "-p", "7", "-n", "5", "-r", "2", "-t", "2", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("threads").asInt()).isEqualTo(2);
        assertThat(j.get("pp").get("tokens").asInt()).isEqualTo(7);
        assertThat(j.get("tg").get("tokens").asInt()).isEqualTo(5);
        assertThat(j.get("pp").get("runs")).hasSize(2);
        assertThat(j.get("tg").get("mean").asDouble()).isPositive();
        assertThat(j.get("peak_rss_bytes").asLong()).isPositive();
        // Every tensor once, except one row of the (untied) token embedding: summed here from the GGUF tensor table.
        long expected = 0;
        try (GgufFile f = GgufFile.open(gguf)) {
            for (GgufTensorInfo t : f.tensorInfos()) {
                long bytes = t.type().bytesFor(t.elements());
                expected += t.name().equals("token_embd.weight") ? bytes / ModelFixtures.VOCAB_SIZE : bytes;
            }
        }
        assertThat(j.get("weight_bytes_per_token").asLong()).isEqualTo(expected);
    }

    /** {@code -d} (llama-bench's --n-depth): the runs start after that many context tokens, which must fit the context. */
    @Test
    void depthIsReportedAndMustFitTheContext() throws Exception {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("m.gguf"), GgmlType.Q8_0);
        CliRunner.Result r = CliRunner.run("bench", "-m", gguf.toString(), "-p", "4", "-n", "3", "-d", "6", "-r", "1", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("n_depth").asInt()).isEqualTo(6);
        assertThat(j.get("tg").get("tokens").asInt()).isEqualTo(3);
        CliRunner.Result tooDeep = CliRunner.run("bench", "-m", gguf.toString(), "-p", "4", "-n", "3", "-d", "100000000", "-r", "1");
        assertThat(tooDeep.exitCode()).isEqualTo(2);
        assertThat(tooDeep.err()).contains("context");
        assertThat(CliRunner.run("bench", "-m", gguf.toString(), "-d", "-1").exitCode()).isEqualTo(2);
    }

    /** {@code --kernels} picks the matrix-product kernels and the report names them per weight type. */
    @Test
    void kernelsOptionChoosesTheKernelsAndTheReportNamesThem() throws Exception {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("k.gguf"), GgmlType.Q8_0);
        try {
            CliRunner.Result java = CliRunner.run("bench", "-m", gguf.toString(), "-p", "2", "-n", "2", "-r", "1", "--kernels", "java", "--json");
            assertThat(java.exitCode()).as(java.err()).isZero();
            assertThat(new ObjectMapper().readTree(java.out()).get("kernels").asText()).isIn("vector (Q8_0)", "scalar (Q8_0)");
            CliRunner.Result nat = CliRunner.run("bench", "-m", gguf.toString(), "-p", "2", "-n", "2", "-r", "1", "--kernels", "native", "--json");
            if (NativeKernels.loaded()) {
                assertThat(nat.exitCode()).as(nat.err()).isZero();
                assertThat(new ObjectMapper().readTree(nat.out()).get("kernels").asText()).isEqualTo("native " + NativeKernels.isa() + " (Q8_0)");
            } else {
                assertThat(nat.exitCode()).isNotZero();
                assertThat(nat.err()).contains("native kernel library is not available");
            }
            assertThat(CliRunner.run("bench", "-m", gguf.toString(), "--kernels", "fast").exitCode()).isEqualTo(2);
        } finally {
            KernelChoice.set(KernelChoice.Mode.AUTO);
        }
    }

    /**
     * {@code --token-times}: every generated token of the process's first tg run and of the last measured one timed on
     * its own; the measured run's tokens/s is the count over their sum; the text report lists the first tokens.
     */
    @Test
    void tokenTimesReportEachTokenOfTheFirstAndTheLastRun() throws Exception {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("t.gguf"), GgmlType.Q8_0);
        CliRunner.Result r = CliRunner.run("bench", "-m", gguf.toString(), "-p", "0", "-n", "11", "-r", "1", "--token-times", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        JsonNode fresh = j.get("token_times").get("fresh_ms"), steady = j.get("token_times").get("steady_ms");
        assertThat(fresh).hasSize(11);
        assertThat(steady).hasSize(11);
        double sum = 0;
        for (JsonNode v : steady) {
            assertThat(v.asDouble()).isPositive();
            sum += v.asDouble();
        }
        for (JsonNode v : fresh) assertThat(v.asDouble()).isPositive();
        // Each token's time is rounded to 0.01 ms in the report (this model's tokens take ~0.01 ms once warm), so the
        // rate is bounded by the sums of the times rounded all down or all up.
        double slack = 11 * 0.005, rate = j.get("tg").get("mean").asDouble();
        assertThat(rate).isBetween(11 / ((sum + slack) / 1000) * 0.999, 11 / (Math.max(sum - slack, 1e-6) / 1000) * 1.001);
        assertThat(j.get("vector_bits").asInt()).isIn(0, 128, 256, 512);
        CliRunner.Result text = CliRunner.run("bench", "-m", gguf.toString(), "-p", "2", "-n", "10", "-r", "1", "--token-times");
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).contains("per-token ms, tokens 1-8 then the mean of the rest").contains("first tg run of the process: [")
                .contains("last measured tg run:");
    }

    @Test
    void badArgumentsAreUserErrors() {
        assertThat(CliRunner.run("bench", "-m", "x.gguf", "-r", "0").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("bench", "-m", "does-not-exist.gguf").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("bench", "-p", "4").exitCode()).isEqualTo(2);
    }
}
