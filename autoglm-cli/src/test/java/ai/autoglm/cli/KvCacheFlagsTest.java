package ai.autoglm.cli;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --cache-type-k/--cache-type-v}: bench runs with the types it was given (and says so), and a bad type name or
 * a quantized type the model's head dimension cannot hold is one clear error (exit 2) on run, bench and serve.
 */
class KvCacheFlagsTest {
    @TempDir
    Path dir;

    @Test
    void benchRunsWithTheGivenCacheTypes() throws Exception {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(128, 4, 2, 256).withContext(1024), dir.resolve("m.gguf"), GgmlType.F32);
        CliRunner.Result r = CliRunner.run("bench", "-m", gguf.toString(), "-p", "300", "-n", "3", "-r", "1", "-t", "1",
                "--cache-type-k", "q8_0", "--cache-type-v", "q4_0", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("cache_type_k").asText()).isEqualTo("q8_0");
        assertThat(j.get("cache_type_v").asText()).isEqualTo("q4_0");
        assertThat(j.get("pp").get("tokens").asInt()).isEqualTo(300);
        CliRunner.Result run = CliRunner.run("run", "-m", gguf.toString(), "-p", "hello world", "-n", "12", "--temperature", "0",
                "--quiet", "--cache-type-k", "f16", "--cache-type-v", "f16");
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    @Test
    void badTypesAreOneClearError() {
        Path gguf = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("hd16.gguf"), GgmlType.F32); // head dim 16
        CliRunner.Result bad = CliRunner.run("run", "-m", gguf.toString(), "-p", "hi", "--cache-type-k", "q5_1");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown KV cache type 'q5_1', expected one of f32, f16, q8_0, q4_0");
        CliRunner.Result blocks = CliRunner.run("bench", "-m", gguf.toString(), "-p", "4", "-n", "0", "--cache-type-v", "q8_0");
        assertThat(blocks.exitCode()).isEqualTo(2);
        assertThat(blocks.err()).contains("--cache-type-v q8_0 needs a head dimension that is a multiple of 32, this model's is 16");
        CliRunner.Result serve = CliRunner.run("serve", "-m", gguf.toString(), "--port", "0", "--cache-type-k", "int8");
        assertThat(serve.exitCode()).isEqualTo(2);
        assertThat(serve.err()).contains("unknown KV cache type 'int8'");
    }
}
