package ai.autoglm.server;

import ai.autoglm.core.model.KvCacheType;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.ServerConfigFile;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code cache-type-k/cache-type-v} of a served model: read from the config file (a bad name is one error naming the
 * file), and four concurrent requests batched by the scheduler over q8_0/q4_0 caches answer exactly what the
 * single-sequence generator ({@code autoglm run} with the same cache types) answers, which differs from the f32
 * cache's answer (so the test can tell the types apart).
 */
class KvCacheServingTest {
    /** Head dimension 32: whole quantization blocks. */
    static final ModelFixtures.Spec SPEC = ModelFixtures.llama().withDims(128, 4, 2, 256).withContext(1024).withSeed(9);

    @TempDir
    Path dir;

    @Test
    void theConfigFileNamesTheCacheTypes() throws Exception {
        Path model = ModelFixtures.writeGguf(SPEC, dir.resolve("m.gguf"), GgmlType.F32);
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "models:\n  - path: m.gguf\n    cache-type-k: q8_0\n    cache-type-v: Q4_0\n  - path: m.gguf\n    alias: plain\n");
        ServerConfig c = ServerConfigFile.read(cfg);
        assertThat(c.models().get(0).kvCache()).isEqualTo(new KvCacheTypes(KvCacheType.Q8_0, KvCacheType.Q4_0));
        assertThat(c.models().get(1).kvCache()).isEqualTo(KvCacheTypes.DEFAULT);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "models:\n  - path: " + model + "\n    cache-type-v: q5_1\n");
        assertThatThrownBy(() -> ServerConfigFile.read(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad.yaml").hasMessageContaining("unknown KV cache type 'q5_1', expected one of f32, f16, q8_0, q4_0");
    }

    @Test
    void batchedRequestsOverAQuantizedCacheAnswerAsTheSingleSequenceGenerator() throws Exception {
        Path model = ModelFixtures.writeGguf(SPEC, dir.resolve("m.gguf"), GgmlType.F32);
        KvCacheTypes types = new KvCacheTypes(KvCacheType.Q8_0, KvCacheType.Q4_0);
        List<String> prompts = List.of("hello world, the world", "the world is", "hello hello", "world of the hello");
        List<String> expected = new ArrayList<>(), f32 = new ArrayList<>();
        try (GreedyReference q = new GreedyReference(model, types); GreedyReference f = new GreedyReference(model)) {
            for (String p : prompts) {
                expected.add(q.completion(p, 40, 512));
                f32.add(f.completion(p, 40, 512));
            }
        }
        assertThat(expected).as("q4_0 values must change some answer, or the test could not tell").isNotEqualTo(f32);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("q", model, 512, 4, null, null, null, null, types)));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (String p : prompts) {
                ObjectNode body = TestServer.JSON.createObjectNode().put("model", "q").put("prompt", p).put("max_tokens", 40).put("temperature", 0);
                answers.add(CompletableFuture.supplyAsync(() -> {
                    var r = s.post("/v1/completions", body);
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    return TestServer.json(r).at("/choices/0/text").asText();
                }));
            }
            for (int i = 0; i < prompts.size(); i++) assertThat(answers.get(i).get()).as(prompts.get(i)).isEqualTo(expected.get(i));
        }
    }
}
