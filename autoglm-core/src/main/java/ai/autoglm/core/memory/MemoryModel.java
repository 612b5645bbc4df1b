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
 *   <li>a constant for the JVM by the {@link ProcessKind} of the process (engine alone, command line, server), each
 *       measured as peak RSS minus the parts above with the launcher's flags (young generation capped at 64 MiB).</li>
 * </ul>
 * Java array headers (16 bytes each) and the tokenizer's tables are inside the constant, not counted apart.
 */
public final class MemoryModel {
    /**
     * The JVM's part for a server ({@link ProcessKind#SERVER}), what the methods without a {@link ProcessKind} count.
     * Earlier this was one constant of 192 MiB for every process, measured after a single token with the young
     * generation uncapped; {@link ProcessKind} has the measured figure of each kind of process.
     */
    public static final long JVM_OVERHEAD_BYTES = ProcessKind.SERVER.overheadBytes();

    /** The most rows one forward chunk (and the batch scratch) holds: the engine's own constant. */
    public static final int MAX_BATCH = TransformerModel.MAX_BATCH;

    private MemoryModel() {
    }

    /** {@code autoglm serve}: {@code slots} sequences of {@code context} positions each, plus the batch scratch (F32 KV). */
    public static MemoryEstimate forServing(ModelConfig config, List<TensorSpec> tensors, int context, int slots) {
        return forServing(ProcessKind.SERVER, config, tensors, context, slots, KvCacheTypes.DEFAULT);
    }

    /** {@code autoglm serve} with KV caches of {@code kvTypes}. */
    public static MemoryEstimate forServing(ModelConfig config, List<TensorSpec> tensors, int context, int slots, KvCacheTypes kvTypes) {
        return forServing(ProcessKind.SERVER, config, tensors, context, slots, kvTypes);
    }

    /**
     * {@code slots} sequences run by the continuous-batching scheduler in a process of {@code kind} ({@code serve}:
     * {@link ProcessKind#SERVER}; the SDK in-process: {@link ProcessKind#ENGINE}).
     */
    public static MemoryEstimate forServing(ProcessKind kind, ModelConfig config, List<TensorSpec> tensors, int context, int slots,
                                            KvCacheTypes kvTypes) {
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1, got " + slots);
        long kv = Math.multiplyExact(slots, kvCacheBytes(config, kvTypes, context));
        long working = Math.multiplyExact(slots, stateScratchBytes(config, context, Math.min(context, MAX_BATCH)))
                + batchScratchBytes(config);
        return new MemoryEstimate(weightBytes(tensors), kv, working, kind.overheadBytes());
    }

    /** One sequence of {@code context} positions run with {@code forward} in a process of {@code kind} (F32 KV). */
    public static MemoryEstimate forSingleSequence(ProcessKind kind, ModelConfig config, List<TensorSpec> tensors, int context) {
        return forSingleSequence(kind, config, tensors, context, KvCacheTypes.DEFAULT);
    }

    /**
     * One sequence of {@code context} positions with a KV cache of {@code kvTypes}, in a process of {@code kind}
     * ({@code autoglm run}, {@code eval}: {@link ProcessKind#CLI}; a bare engine: {@link ProcessKind#ENGINE}).
     */
    public static MemoryEstimate forSingleSequence(ProcessKind kind, ModelConfig config, List<TensorSpec> tensors, int context,
                                                   KvCacheTypes kvTypes) {
        return new MemoryEstimate(weightBytes(tensors), kvCacheBytes(config, kvTypes, context),
                stateScratchBytes(config, context, Math.min(context, MAX_BATCH)), kind.overheadBytes());
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
