package ai.autoglm.core.memory;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.TransformerModel;

import java.util.List;

/**
 * The runtime memory of a model, computed from its configuration and tensor list the way the engine allocates it,
 * so that the compression search and {@code serve --quantize auto} judge a plan by the same numbers:
 * <ul>
 *   <li>weights: each tensor's bytes in its GGML type (ggml_nbytes: elements / block size × block bytes), plus
 *       the float[] copies {@code TransformerModel} makes of 1-D tensors (norms, biases). A Q4_0/Q8_0 matrix that the
 *       native kernels repack ({@code PackedWeights}) counts once: its packed copy has the same bytes (plus zero rows
 *       up to a multiple of 8, none for the usual shapes) and the mapped original's pages are released;</li>
 *   <li>KV cache ({@code KvCache}, off-heap): per sequence, keys and values of every layer, {@code positions × kvDim}
 *       elements each in their {@link KvCacheTypes} (f32 4 bytes, f16 2, q8_0 34 per 32, q4_0 18 per 32), in whole
 *       chunks of {@link ai.autoglm.core.model.KvCache#CHUNK_POSITIONS} positions; a slot's chunks are allocated as
 *       its sequence grows, so the figure is the most a slot reaches (its whole context);</li>
 *   <li>working buffers ({@code InferenceState}): per sequence, activations of {@code batch = min(positions,
 *       MAX_BATCH)} rows (x, xb, xb2, q, k, v, fused qkv, attention output, hb, hb2 with gate|up fused),
 *       attention scores {@code heads × positions}, rotary tables and one row of logits; when serving, the
 *       continuous-batching scratch (one more state of MAX_BATCH positions and rows, and MAX_BATCH rows of
 *       logits);</li>
 *   <li>for a mixture-of-experts model, every expert tensor in full (a long-running server touches all experts
 *       sooner or later; one token reads only {@code used} of them) and the routing buffers per sequence;</li>
 *   <li>a constant for the JVM: {@link #JVM_OVERHEAD_BYTES}.</li>
 * </ul>
 * Java array headers (16 bytes each) and the tokenizer's tables are inside the constant, not counted apart.
 */
public final class MemoryModel {
    /**
     * Resident memory of the JVM on top of the model's own allocations: the JVM's start (~45 MiB), GC structures
     * (which grow with the maximum heap), code cache, metaspace, thread stacks, young-generation garbage of loading,
     * the tokenizer. Measured with {@code MemoryModelRssTest}'s child JVM (the launcher's flags: ParallelGC, default
     * heap of 1/4 of RAM on a 24 GiB, 2-core machine): total VmRSS after loading and running one token, minus the
     * model's part of the estimate, was 157 MiB (fixture of 64 MiB) and 174 MiB (bundled model, 11 MiB, whose
     * tokenizer and chat template load more classes); rounded up. A smaller {@code -Xmx} lowers it (144 MiB total for
     * the bundled model with -Xmx256m); large vocabularies add their tokenizer tables (not modelled).
     */
    public static final long JVM_OVERHEAD_BYTES = 192L << 20;

    /** The most rows one forward chunk (and the batch scratch) holds: the engine's own constant. */
    public static final int MAX_BATCH = TransformerModel.MAX_BATCH;

    private MemoryModel() {
    }

    /** {@code autoglm serve}: {@code slots} sequences of {@code context} positions each, plus the batch scratch (F32 KV). */
    public static MemoryEstimate forServing(ModelConfig config, List<TensorSpec> tensors, int context, int slots) {
        return forServing(config, tensors, context, slots, KvCacheTypes.DEFAULT);
    }

    /** {@code autoglm serve} with KV caches of {@code kvTypes}. */
    public static MemoryEstimate forServing(ModelConfig config, List<TensorSpec> tensors, int context, int slots, KvCacheTypes kvTypes) {
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1, got " + slots);
        long kv = Math.multiplyExact(slots, kvCacheBytes(config, kvTypes, context));
        long working = Math.multiplyExact(slots, stateScratchBytes(config, context, Math.min(context, MAX_BATCH)))
                + batchScratchBytes(config);
        return new MemoryEstimate(weightBytes(tensors), kv, working, JVM_OVERHEAD_BYTES);
    }

    /** One sequence of {@code context} positions run with {@code forward} ({@code autoglm run}, {@code eval}). */
    public static MemoryEstimate forSingleSequence(ModelConfig config, List<TensorSpec> tensors, int context) {
        return forSingleSequence(config, tensors, context, KvCacheTypes.DEFAULT);
    }

    /** One sequence of {@code context} positions with a KV cache of {@code kvTypes}. */
    public static MemoryEstimate forSingleSequence(ModelConfig config, List<TensorSpec> tensors, int context, KvCacheTypes kvTypes) {
        return new MemoryEstimate(weightBytes(tensors), kvCacheBytes(config, kvTypes, context),
                stateScratchBytes(config, context, Math.min(context, MAX_BATCH)), JVM_OVERHEAD_BYTES);
    }

    /** Storage of every tensor in its type, plus the heap float copies of the 1-D ones. */
    public static long weightBytes(List<TensorSpec> tensors) {
        long total = 0;
        for (TensorSpec t : tensors) {
            total = Math.addExact(total, t.bytes());
            if (t.dims() == 1) total = Math.addExact(total, t.elements() * Float.BYTES);
        }
        return total;
    }

    /** F32 KvCache of one sequence: keys and values, {@code layers × positions × kvDim} floats each (whole chunks). */
    public static long kvCacheBytes(ModelConfig c, int positions) {
        return InferenceState.kvCacheBytes(c, positions);
    }

    /** KvCache of one sequence filled to {@code positions} in {@code types}. */
    public static long kvCacheBytes(ModelConfig c, KvCacheTypes types, int positions) {
        return InferenceState.kvCacheBytes(c, types, positions);
    }

    /**
     * The float buffers of one InferenceState other than its KV cache, and for a mixture-of-experts model the routing and
     * expert buffers of the thread that runs it ({@link TransformerModel#moeScratchBytes}).
     */
    public static long stateScratchBytes(ModelConfig c, int positions, int batch) {
        return InferenceState.scratchBytes(c, positions, batch) + TransformerModel.moeScratchBytes(c, batch);
    }

    /**
     * TransformerModel's continuous-batching scratch: a state of MAX_BATCH positions and rows (its own KV cache is never
     * written: rows store into their sequences' caches, and chunks are allocated on first write), and MAX_BATCH logit rows.
     */
    public static long batchScratchBytes(ModelConfig c) {
        return stateScratchBytes(c, MAX_BATCH, MAX_BATCH)
                + (long) MAX_BATCH * c.vocabSize() * Float.BYTES;
    }
}
