package ai.autoglm.server.hub;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.quant.WeightTypeRule;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.hub.HubSettings;
import ai.autoglm.core.hub.LocalHub;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.PullListener;
import ai.autoglm.core.model.KvCacheTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code serve --model NAME --quantize WORD}: the project's words (int4, int8, fp16, auto) and the ggml types the
 * README lists for serve (f16, q8_0, q4_0, q4_k), any case, each give the derived GGUF of the type they mean, checked
 * by its {@code general.file_type} (llama.cpp's {@code llama_ftype}: 1 MOSTLY_F16, 7 MOSTLY_Q8_0, 2 MOSTLY_Q4_0,
 * 15 MOSTLY_Q4_K_M); anything else is one clear error before any byte is downloaded.
 */
class ServedModelFilesTest {
    private static final String REPO = "test-org/tiny-qwen";

    @TempDir
    Path tmp;

    private HubSettings settings(LocalHub hub) {
        return new HubSettings(hub.endpoint(), hub.endpoint(), null, tmp.resolve("hf/hub"), tmp.resolve("hf/autoglm"), false, 4, 5);
    }

    @Test
    void everyQuantizeWordServesTheTypeItMeans() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        Map<String, Long> expected = new LinkedHashMap<>();
        expected.put("int4", 15L);
        expected.put("INT4", 15L);
        expected.put("q4_k", 15L);
        expected.put("int8", 7L);
        expected.put("q8_0", 7L);
        expected.put("fp16", 1L);
        expected.put("f16", 1L);
        expected.put("q4_0", 2L);
        expected.put("auto", 1L); // a budget of 64 GiB: f16, the best type, fits this tiny model
        try (LocalHub hub = new LocalHub()) {
            hub.publish(REPO, repo, null);
            ModelPuller puller = new ModelPuller(settings(hub));
            for (var e : expected.entrySet()) {
                ServedModelFiles.Prepared p = ServedModelFiles.prepare(REPO, e.getKey(), 128, 1, KvCacheTypes.DEFAULT, () -> MemoryBudget.ofMegabytes(64 << 10),
                        puller, "huggingface", PullListener.NONE);
                assertThat(p.quantize()).as(e.getKey() + ": quantized into the derived file, nothing left for load time").isNull();
                assertThat(p.path().toString()).as(e.getKey()).contains("derived").endsWith(".gguf");
                try (GgufFile g = GgufFile.open(p.path())) {
                    assertThat(g.getLong("general.file_type", -1)).as(e.getKey() + " -> " + p.path().getFileName()).isEqualTo(e.getValue());
                }
            }
        }
    }

    /**
     * {@code auto} sizes for the KV cache type asked for: with a budget that holds f16 weights beside q4_0 caches but
     * not beside f32 ones, a q4_0 cache gets the f16 file (checked by its file type) and the default cache no file
     * at all (the budget computed from the memory model the decision uses).
     */
    @Test
    void autoCountsTheKvCacheTypeAskedFor() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        int ctx = 4096, slots = 8;
        KvCacheTypes q4 = KvCacheTypes.parse("q4_0", "q4_0");
        long withF32, withQ4;
        try (var m = (TransformerModel) ModelLoader.load(repo)) {
            var stored = TensorSpec.of(m.weights());
            var f16 = WeightTypeRule.apply(m.config(), stored, GgmlType.F16);
            withF32 = MemoryModel.forServing(m.config(), f16, ctx, slots, KvCacheTypes.DEFAULT).totalBytes();
            withQ4 = MemoryModel.forServing(m.config(), f16, ctx, slots, q4).totalBytes();
        }
        assertThat(withQ4).as("the fixture's caches must matter at this size").isLessThan(withF32);
        MemoryBudget between = new MemoryBudget((withF32 + withQ4) / 2, "test");
        try (LocalHub hub = new LocalHub()) {
            hub.publish(REPO, repo, null);
            ModelPuller puller = new ModelPuller(settings(hub));
            ServedModelFiles.Prepared quantizedCache = ServedModelFiles.prepare(REPO, "auto", ctx, slots, q4, () -> between, puller, "huggingface",
                    PullListener.NONE);
            try (GgufFile a = GgufFile.open(quantizedCache.path())) {
                assertThat(a.getLong("general.file_type", -1)).as("q4_0 cache: f16 weights fit").isEqualTo(1L);
            }
            // this fixture's weights are a few hundred KB, so with f32 caches no smaller weight type makes up the difference
            assertThatThrownBy(() -> ServedModelFiles.prepare(REPO, "auto", ctx, slots, KvCacheTypes.DEFAULT, () -> between, puller, "huggingface",
                    PullListener.NONE)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no quantization fits");
        }
    }

    @Test
    void anyOtherWordIsOneErrorBeforeAnyDownload() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        try (LocalHub hub = new LocalHub()) {
            hub.publish(REPO, repo, null);
            ModelPuller puller = new ModelPuller(settings(hub));
            for (String bad : List.of("int3", "q5_k", "q4_k_s", "fp8", "bf16", "")) {
                assertThatThrownBy(() -> ServedModelFiles.prepare(REPO, bad, 128, 1, KvCacheTypes.DEFAULT, () -> MemoryBudget.ofMegabytes(1024), puller, "huggingface",
                        PullListener.NONE))
                        .as(bad).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("--quantize").hasMessageContaining("int4, int8, fp16").hasMessageContaining("'" + bad + "'");
            }
            assertThat(hub.requests.get()).as("no request to the hub for a bad word").isZero();
            assertThat(tmp.resolve("hf")).doesNotExist();
        }
    }
}
