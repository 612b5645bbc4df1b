package ai.autoglm.server;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.ServeSlots;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15 item 17: without {@code slots}, a model gets one slot per core (2 to 8) cut to what the memory budget holds,
 * and a second user does not wait for the first. The KV cache's size is checked against its plain formula (keys and
 * values, every layer, every position, kvDim floats each).
 */
class DefaultSlotsTest {
    @TempDir
    static Path dir;
    static Path llama;
    static ModelConfig config;
    static List<TensorSpec> tensors;

    @BeforeAll
    static void model() {
        llama = TestServer.llamaFile(dir);
        try (LanguageModel m = ModelLoader.load(llama)) {
            config = m.config();
            tensors = TensorSpec.of(((TransformerModel) m).weights());
        }
    }

    static long kvPerSlot(int context) {
        return 2L * config.layers() * context * config.kvHeads() * config.headDim() * Float.BYTES;
    }

    @Test
    void slotsFollowTheCoresAndTheMemoryBudget() {
        int ctx = Math.min(4096, config.contextLength());
        // The estimate's KV cache is the plain formula's, per slot; each slot also has its working buffers.
        assertThat(MemoryModel.forServing(config, tensors, ctx, 5).kvCacheBytes()).isEqualTo(5 * kvPerSlot(ctx));
        long perSlot = MemoryModel.forServing(config, tensors, ctx, 2).totalBytes() - MemoryModel.forServing(config, tensors, ctx, 1).totalBytes();
        assertThat(perSlot).isGreaterThanOrEqualTo(kvPerSlot(ctx));
        long rest = MemoryModel.forServing(config, tensors, ctx, 1).totalBytes() - perSlot;

        MemoryBudget plenty = MemoryBudget.ofMegabytes(1 << 20);
        assertThat(ServeSlots.decide(config, tensors, 0, null, 1, plenty).slots()).isEqualTo(2); // at least 2
        assertThat(ServeSlots.decide(config, tensors, 0, null, 6, plenty).slots()).isEqualTo(6); // one per core
        assertThat(ServeSlots.decide(config, tensors, 0, null, 64, plenty).slots()).isEqualTo(8); // at most 8
        assertThat(ServeSlots.decide(config, tensors, 0, null, 64, plenty).context()).isEqualTo(ctx);

        // A budget that holds 3.5 slots' KV caches: 3 slots.
        MemoryBudget three = new MemoryBudget(rest + perSlot * 7 / 2, "test");
        ServeSlots.Choice c = ServeSlots.decide(config, tensors, 0, null, 16, three);
        assertThat(c.slots()).isEqualTo(3);
        assertThat(c.reason()).contains("3 slot(s) x " + ctx + " positions", "16 core(s)", String.format(java.util.Locale.ROOT, "%.1f MiB per slot", kvPerSlot(ctx) / 1048576.0));

        // Less than one slot at the default context: the context halves until one fits.
        MemoryBudget tight = new MemoryBudget(rest + perSlot / 2, "test");
        c = ServeSlots.decide(config, tensors, 0, null, 16, tight);
        assertThat(c.slots()).isEqualTo(1);
        assertThat(c.context()).isEqualTo(ctx / 2);
        // ... but a context the user gave is kept, and slots the user gave are kept.
        assertThat(ServeSlots.decide(config, tensors, 0, ctx, 16, tight).context()).isEqualTo(ctx);
        assertThat(ServeSlots.decide(config, tensors, 5, null, 16, tight).slots()).isEqualTo(5);
    }

    @Test
    void theServerRunsSeveralSlotsByDefaultSoASecondUserDoesNotWait() throws Exception {
        ServerConfig cfg = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("m", llama, null, ModelSpec.AUTO_SLOTS, null, null)), GatewayFilters.NONE)
                .withMemoryBudget(MemoryBudget.ofMegabytes(64 * 1024));
        try (TestServer s = TestServer.client(AutoglmServer.start(cfg))) {
            int expected = Math.clamp(ComputeThreads.count(), 2, 8);
            assertThat(s.server.registry().slots("m")).isEqualTo(expected);
            assertThat(s.server.registry().context("m")).isEqualTo(Math.min(4096, config.contextLength()));

            // Two long streams at once: both hold a slot at the same time.
            String body = "{\"model\":\"m\",\"prompt\":\"hello\",\"max_tokens\":900,\"ignore_eos\":true,\"temperature\":0,\"stream\":true}";
            HttpRequest req = HttpRequest.newBuilder(URI.create(s.base() + "/v1/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
            CompletableFuture<HttpResponse<String>> a = s.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> b = s.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
            var scheduler = s.server.registry().acquire("m").scheduler();
            int most = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!(a.isDone() && b.isDone()) && most < 2 && System.nanoTime() < deadline) {
                most = Math.max(most, scheduler.active());
                Thread.onSpinWait();
            }
            assertThat(most).as("slots busy at once").isEqualTo(2);
            assertThat(a.get().statusCode()).isEqualTo(200);
            assertThat(b.get().statusCode()).isEqualTo(200);
        }
    }
}
