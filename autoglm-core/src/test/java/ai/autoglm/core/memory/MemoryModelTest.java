package ai.autoglm.core.memory;

import ai.autoglm.core.model.BatchEntry;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.MoeFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The memory model against what the engine really allocates: the float arrays inside an {@link InferenceState} and
 * the batch scratch of {@link TransformerModel} (read by reflection), the KV cache, and the weight bytes of fixture
 * files counted from the fixture's own tensors; plus formulas written here from the configuration alone.
 */
class MemoryModelTest {
    static final Path DEFAULT_MODEL = Path.of("..", "models", "default", "model.gguf");

    @TempDir
    Path dir;

    /** Bytes of every float[] field of {@code o} (not following other objects). */
    static long floatArrayBytes(Object o) throws IllegalAccessException {
        long total = 0;
        for (Field f : o.getClass().getDeclaredFields()) {
            if (f.getType() != float[].class || java.lang.reflect.Modifier.isStatic(f.getModifiers())) continue;
            f.setAccessible(true);
            float[] a = (float[]) f.get(o);
            if (a != null) total += (long) a.length * Float.BYTES;
        }
        return total;
    }

    static void checkStateAndBatchScratch(LanguageModel m, int context) throws Exception {
        ModelConfig c = m.config();
        InferenceState s = m.newState(context);
        int batch = Math.min(context, MemoryModel.MAX_BATCH);
        assertThat(MemoryModel.stateScratchBytes(c, context, batch)).isEqualTo(floatArrayBytes(s));
        // The KV cache is off-heap and allocated in chunks as positions are written: nothing yet, then whole chunks of
        // min(256, context) positions once the context is full.
        assertThat(s.kvCache().bytes()).isZero();
        int[] tokens = new int[context];
        for (int i = 0; i < context; i++) tokens[i] = (i * 31 + 7) % c.vocabSize();
        m.forward(s, tokens, 0, context, false);
        int chunk = Math.min(256, context);
        long chunked = (context + chunk - 1L) / chunk * chunk;
        assertThat(MemoryModel.kvCacheBytes(c, context)).isEqualTo(s.kvCache().bytes())
                .isEqualTo(2L * c.layers() * chunked * c.kvHeads() * c.headDim() * 4);
        s.rewind(0);
        // Written from the configuration: activations per row, scores per position, one logits row.
        boolean fusedQkv = c.architecture().fusedQkv(), fusedGateUp = c.architecture().fusedGateUp();
        long q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim();
        long perRow = 3L * c.dim() + q + 2 * kv + (fusedQkv ? q + 2 * kv : 0) + q + c.ffnDim() + c.ffnDim() * (fusedGateUp ? 2L : 1L) + c.rotaryDim();
        assertThat(MemoryModel.stateScratchBytes(c, context, batch)).isEqualTo(4 * (perRow * batch + (long) c.heads() * context + c.vocabSize() + q));

        m.forwardBatch(List.of(new BatchEntry(s, new int[]{1, 2}, 0, 2)));
        Field f = TransformerModel.class.getDeclaredField("batchScratch");
        f.setAccessible(true);
        Object scratch = f.get(m);
        long actual = 0;
        for (RecordComponent rc : scratch.getClass().getRecordComponents()) {
            java.lang.reflect.Method accessor = rc.getAccessor();
            accessor.setAccessible(true);
            Object v = accessor.invoke(scratch);
            if (v instanceof InferenceState st) actual += floatArrayBytes(st) + st.kvCache().bytes();
            else if (v instanceof float[] a) actual += 4L * a.length;
        }
        assertThat(MemoryModel.batchScratchBytes(c)).isEqualTo(actual);
    }

    @Test
    void buffersOfALlamaModelAreTheAllocatedOnes() throws Exception {
        try (LanguageModel m = ModelLoader.load(ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("m.gguf"), GgmlType.F32))) {
            checkStateAndBatchScratch(m, 100);
            checkStateAndBatchScratch(m, 20);
        }
    }

    @Test
    void buffersOfTheFusedGlm4DefaultModelAreTheAllocatedOnes() throws Exception {
        try (LanguageModel m = ModelLoader.load(DEFAULT_MODEL)) {
            assertThat(m.config().architecture().postNorms()).isTrue();
            checkStateAndBatchScratch(m, Math.min(m.config().contextLength(), 700));
        }
    }

    @Test
    void weightBytesFollowTheBlockLayouts() {
        ModelFixtures.Spec s = ModelFixtures.llama();
        Map<String, float[]> tensors = ModelFixtures.ggufTensors(s, ModelFixtures.hfWeights(s));
        long matrixElements = 0, vectorElements = 0;
        for (var e : tensors.entrySet()) {
            if (ModelFixtures.ggufShape(s, e.getKey(), e.getValue()).length == 2) matrixElements += e.getValue().length;
            else vectorElements += e.getValue().length;
        }
        // Q8_0: 34 bytes per 32 values (ggml block_q8_0: fp16 scale + 32 int8); 1-D stay F32 and are also copied to the heap.
        try (LanguageModel m = ModelLoader.load(ModelFixtures.writeGguf(s, dir.resolve("q8.gguf"), GgmlType.Q8_0))) {
            long w = MemoryModel.weightBytes(TensorSpec.of(((TransformerModel) m).weights()));
            assertThat(w).isEqualTo(matrixElements / 32 * 34 + vectorElements * 4 * 2);
        }
        try (LanguageModel m = ModelLoader.load(ModelFixtures.writeGguf(s, dir.resolve("f32.gguf"), GgmlType.F32))) {
            long w = MemoryModel.weightBytes(TensorSpec.of(((TransformerModel) m).weights()));
            assertThat(w).isEqualTo(matrixElements * 4 + vectorElements * 4 * 2);
        }
    }

    /** An MoE file: the 3-D expert tensors count in full in their type; the routing buffers a forward grows fit the estimate. */
    @Test
    void mixtureOfExpertsTensorsAndRoutingBuffersAreCounted() throws Exception {
        MoeFixtures.Spec s = MoeFixtures.glm45();
        long matrixElements = 0, vectorElements = 0, expertElements = 0;
        for (var e : MoeFixtures.ggufTensors(s, MoeFixtures.hfTensors(s)).entrySet()) {
            long n = e.getValue().values().length;
            if (e.getValue().shape().length == 1) vectorElements += n;
            else if (e.getKey().contains("ffn_gate_inp")) vectorElements += 0; // router: F32 matrix, counted below
            else matrixElements += n;
            if (e.getValue().shape().length == 3) expertElements += n;
        }
        long router = (long) (s.layers() + s.nextn() - s.leadingDense()) * s.experts() * s.dim();
        assertThat(expertElements).isPositive();
        try (LanguageModel m = ModelLoader.load(MoeFixtures.writeGguf(s, dir.resolve("moe-q8.gguf"), GgmlType.Q8_0))) {
            long w = MemoryModel.weightBytes(TensorSpec.of(((TransformerModel) m).weights()));
            assertThat(w).isEqualTo(matrixElements / 32 * 34 + router * 4 + vectorElements * 4 * 2);
            int rows = 64;
            Class<?> ff = Class.forName("ai.autoglm.core.model.MoeFeedForward");
            Field local = ff.getDeclaredField("SCRATCH");
            local.setAccessible(true);
            ((ThreadLocal<?>) local.get(null)).remove(); // buffers grown by earlier tests' models on this thread
            InferenceState st = m.newState(rows);
            m.forward(st, new int[rows], 0, rows, false);
            Object scratch = ((ThreadLocal<?>) local.get(null)).get();
            long grown = 0;
            for (Field f : scratch.getClass().getDeclaredFields()) {
                f.setAccessible(true);
                Object v = f.get(scratch);
                if (v instanceof float[] a) grown += 4L * a.length;
                else if (v instanceof int[] a) grown += 4L * a.length;
            }
            long estimate = TransformerModel.moeScratchBytes(m.config(), rows);
            assertThat(grown).isPositive().isLessThanOrEqualTo(estimate);
            // all 64 rows the same token: one expert gets every row, the worst case the estimate is sized for
            assertThat(grown).isGreaterThan(estimate / 2);
            assertThat(MemoryModel.stateScratchBytes(m.config(), rows, rows))
                    .isEqualTo(InferenceState.scratchBytes(m.config(), rows, rows) + estimate);
        }
    }

    @Test
    void servingAddsASequencePerSlotAndTheBatchScratch() {
        try (LanguageModel m = ModelLoader.load(DEFAULT_MODEL)) {
            List<TensorSpec> t = TensorSpec.of(((TransformerModel) m).weights());
            ModelConfig c = m.config();
            MemoryEstimate one = MemoryModel.forServing(c, t, 256, 1), four = MemoryModel.forServing(c, t, 256, 4);
            assertThat(four.kvCacheBytes()).isEqualTo(4 * one.kvCacheBytes());
            assertThat(four.workingBytes() - one.workingBytes()).isEqualTo(3 * MemoryModel.stateScratchBytes(c, 256, 64));
            assertThat(one.totalBytes()).isEqualTo(one.weightBytes() + one.kvCacheBytes() + one.workingBytes() + MemoryModel.JVM_OVERHEAD_BYTES);
        }
    }

    @Test
    void theJvmPartIsThatOfTheProcessKindAndGrowsWithWhatTheProcessLoads() {
        try (LanguageModel m = ModelLoader.load(DEFAULT_MODEL)) {
            List<TensorSpec> t = TensorSpec.of(((TransformerModel) m).weights());
            ModelConfig c = m.config();
            for (ProcessKind k : ProcessKind.values()) {
                assertThat(MemoryModel.forSingleSequence(k, c, t, 256).overheadBytes()).isEqualTo(k.overheadBytes());
                MemoryEstimate served = MemoryModel.forServing(k, c, t, 256, 2, ai.autoglm.core.model.KvCacheTypes.DEFAULT);
                assertThat(served.totalBytes() - served.overheadBytes()).isEqualTo(MemoryModel.forServing(c, t, 256, 2).totalBytes() - MemoryModel.JVM_OVERHEAD_BYTES);
            }
            // the engine alone < + tokenizer, template and CLI < + HTTP server; serving without a kind is a server
            assertThat(ProcessKind.ENGINE.overheadBytes()).isLessThan(ProcessKind.CLI.overheadBytes());
            assertThat(ProcessKind.CLI.overheadBytes()).isLessThan(ProcessKind.SERVER.overheadBytes());
            assertThat(MemoryModel.forServing(c, t, 256, 1).overheadBytes()).isEqualTo(ProcessKind.SERVER.overheadBytes());
        }
    }
}
