package ai.autoglm.server;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.quant.ServeQuantization;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code quantize:} end to end: an F32 file served with {@code q8_0} answers exactly as {@code autoglm run} does on
 * the Q8_0 file the fixture writes from the same weights; {@code auto} under a small budget picks a smaller type;
 * a budget nothing fits stops the server from starting, naming the model.
 */
class LoadTimeQuantizationTest {
    static final ModelFixtures.Spec SPEC = TestServer.LLAMA;

    @TempDir
    Path dir;

    static ServerConfig config(List<ModelSpec> models, MemoryBudget budget) {
        return new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, models).withMemoryBudget(budget);
    }

    @Test
    void servedQ8_0EqualsRunOnAQ8_0File() {
        Path f32 = TestServer.llamaFile(dir);
        Path q8 = ModelFixtures.writeGguf(SPEC, dir.resolve("q8.gguf"), GgmlType.Q8_0);
        String prompt = "hello world, the world";
        String expected, unquantized;
        try (GreedyReference ref = new GreedyReference(q8); GreedyReference f = new GreedyReference(f32)) {
            expected = ref.completion(prompt, 48, 256);
            unquantized = f.completion(prompt, 48, 256);
        }
        assertThat(expected).as("Q8_0 must change this output, or the test could not tell").isNotEqualTo(unquantized);
        try (TestServer s = TestServer.client(AutoglmServer.start(config(List.of(
                new ModelSpec("q8", f32, 256, 2, null, null, null, "q8_0")), null)))) {
            assertThat(s.server.registry().quantization("q8")).isEqualTo(GgmlType.Q8_0);
            ObjectNode body = TestServer.JSON.createObjectNode().put("model", "q8").put("prompt", prompt)
                    .put("max_tokens", 48).put("temperature", 0);
            var r = s.post("/v1/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(TestServer.json(r).at("/choices/0/text").asText()).isEqualTo(expected);
        }
    }

    @Test
    void autoUnderASmallBudgetPicksASmallerType() {
        Path f32 = TestServer.llamaFile(dir);
        // One byte less than what f16 needs for 4 slots of 1024 positions (the estimate auto logs for it).
        ServeQuantization.Decision roomy = ServeQuantization.decide("auto", f32, 1024, 4, () -> new MemoryBudget(1L << 40, "huge"));
        assertThat(roomy.type()).isEqualTo(GgmlType.F16); // the fixture is F32: f16 converts it
        long budget = roomy.candidates().getFirst().estimate().totalBytes() - 1;
        try (AutoglmServer small = AutoglmServer.start(config(List.of(new ModelSpec("m", f32, 1024, 4, null, null, null, "auto")),
                new MemoryBudget(budget, "test")))) {
            assertThat(small.registry().quantization("m")).isIn(GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q4_0);
        }
    }

    @Test
    void aBudgetNothingFitsStopsTheStart() {
        Path f32 = TestServer.llamaFile(dir);
        assertThatThrownBy(() -> AutoglmServer.start(config(List.of(new ModelSpec("m", f32, 256, 1, null, null, null, "auto")),
                MemoryBudget.ofMegabytes(64))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model 'm'")
                .hasMessageContaining("no quantization fits the memory budget of 64.0 MiB");
    }

    @Test
    void theConfigFileNamesTheTypeAndTheBudget() throws java.io.IOException {
        Path f32 = TestServer.llamaFile(dir);
        Path yaml = dir.resolve("autoglm.yaml");
        java.nio.file.Files.writeString(yaml, "server:\n  memory-budget-mb: 512\nmodels:\n  - alias: m\n    path: llama.gguf\n    quantize: Q4_K\n");
        ServerConfig c = ai.autoglm.server.config.ServerConfigFile.read(yaml);
        assertThat(c.models().getFirst().quantize()).isEqualTo("q4_k");
        assertThat(c.models().getFirst().path()).isEqualTo(f32.toAbsolutePath());
        assertThat(c.memoryBudget().bytes()).isEqualTo(512L << 20);
        java.nio.file.Files.writeString(yaml, "models:\n  - alias: m\n    path: llama.gguf\n    quantize: q3_k\n");
        assertThatThrownBy(() -> ai.autoglm.server.config.ServerConfigFile.read(yaml))
                .hasMessageContaining("quantize must be one of int4, int8, fp16, f16, q8_0, q4_0, q4_k, auto");
    }
}
