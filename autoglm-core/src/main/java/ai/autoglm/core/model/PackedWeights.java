package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
import ai.autoglm.core.tensor.SegmentTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Row-interleaved copies of Q4_0 and Q8_0 weight matrices for the native kernels (the layout is
 * {@code autoglm-core/src/main/c/packed.inc}: 8 rows per group, one 4-byte group of each row per 32-bit lane, so one
 * {@code vpdpbusd} serves 8 rows and a tile of tokens shares each loaded weight vector). Made once per matrix, at load
 * ({@link DenseProjection}) or on first use, in parallel over row groups, into off-heap memory of exactly the
 * original's size (plus at most 7 zero rows); then the original's pages of a mapped file are given back to the OS
 * ({@link MemorySegment#unload()}, madvise(MADV_DONTNEED)), so resident memory stays one copy of the weights, as
 * {@link ai.autoglm.core.memory.MemoryModel} counts it. Anything else that reads the original bytes later (an embedding
 * row lookup of tied embeddings, the Java kernels under {@code --kernels java}) faults its pages back in from the page
 * cache, unchanged.
 *
 * <p>{@code -Dautoglm.native.pack=false} turns packing off (the in-place native kernels for 1-12 tokens and the Java
 * panel GEMM beyond, as before), for A/B measurements.
 */
final class PackedWeights {
    private static volatile boolean enabled = !"false".equals(System.getProperty("autoglm.native.pack"));

    /** Per tensor (identity: tensors do not override equals), its packed copy; gone with the tensor. */
    private static final Map<SegmentTensor, Packed> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    private record Packed(MemorySegment data, int n, int d) {
    }

    private PackedWeights() {
    }

    /** Turns packing on or off for the products that start after this call (tests cover both paths). */
    static void enable(boolean on) {
        enabled = on;
    }

    static boolean enabled() {
        return enabled;
    }

    /** Whether a product of w as d rows of n goes through a packed copy (built on demand). */
    static boolean applies(FloatTensor w, int n, int d) {
        GgmlType t = w.type();
        return enabled && (t == GgmlType.Q4_0 || t == GgmlType.Q8_0) && w instanceof SegmentTensor && n % 32 == 0 && d > 0
                && w.size() >= (long) d * n && KernelChoice.nativeFor(t) && NativeKernels.packedBytes(t, d, n) > 0;
    }

    /** Packs w now when its products will read a packed copy (at load, so the first token does not pay for it). */
    static void prepare(FloatTensor w, int n, int d) {
        if (applies(w, n, d)) of((SegmentTensor) w, n, d);
    }

    /** The packed copy of w as d rows of n, made on first use. */
    static MemorySegment of(SegmentTensor w, int n, int d) {
        Packed p = CACHE.get(w);
        if (p != null && p.n == n && p.d == d) return p.data;
        synchronized (w) {
            p = CACHE.get(w);
            if (p != null && p.n == n && p.d == d) return p.data;
            MemorySegment data = pack(w, n, d);
            CACHE.put(w, new Packed(data, n, d));
            return data;
        }
    }

    private static MemorySegment pack(SegmentTensor w, int n, int d) {
        long bytes = NativeKernels.packedBytes(w.type(), d, n);
        MemorySegment dst = NativeKernels.allocatePacked(bytes, Arena.ofAuto()); // zeroed: the last group's padding rows
        int groups = (d + 7) / 8;
        Parallel.forRange(groups, 8L * n, (g0, g1) -> NativeKernels.pack(w, n, d, g0, g1, dst));
        MemorySegment src = w.segment();
        if (src.isMapped()) src.unload();
        return dst;
    }
}
