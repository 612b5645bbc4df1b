package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
import ai.autoglm.core.tensor.SegmentTensor;
import ai.autoglm.core.tensor.PanelGemm;
import ai.autoglm.core.tensor.PreparedVector;
import ai.autoglm.core.tensor.SmallBatchGemm;
import ai.autoglm.core.tensor.VectorSupport;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Data-parallel loops for the forward pass (and the training module's backward pass), on the
 * {@link ComputeThreads#count()} threads of a {@link ComputePool} (the caller and daemon workers). Work below a
 * threshold runs on the caller: waking the workers costs more than tiny matrices do.
 */
public final class Parallel {
    /** Multiply-adds below which a loop stays on the calling thread. */
    private static final long MIN_PARALLEL_WORK = 1 << 15;

    private Parallel() {
    }

    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs {@code body} over {@code [0, n)} split into ranges, each item costing about {@code costPerItem}. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        if (n < 2 || (long) n * costPerItem < MIN_PARALLEL_WORK) {
            body.run(0, n);
            return;
        }
        ComputeThreads.pool().run(n, body);
    }

    /**
     * {@code out[outOff + t*d + i] = W[i] . x[xOff + t*n ..]} for rows {@code i < d} and tokens {@code t < count},
     * parallel over rows, by one of four paths: for 2 to {@link SmallBatchGemm#MAX_TOKENS} tokens (a decode step over
     * a few server slots) the {@link SmallBatchGemm} (weights dequantized once per step, weights vectorised); beyond
     * that the panel GEMM (weights dequantized once per chunk, tokens vectorised); for one token the
     * type's prepared-vector kernel where it has one ({@link FloatTensor#prepare}); otherwise each row through
     * {@link FloatTensor#dotMany}.
     */
    public static void matmul(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        if (PackedWeights.applies(w, n, d)) {
            packedMatmul((SegmentTensor) w, x, xOff, n, out, outOff, d, count);
            return;
        }
        if (count >= kqGemmMinTokens(w.type()) && w instanceof SegmentTensor s && n % 256 == 0 && w.size() >= (long) d * n
                && KernelChoice.nativeGemmFor(w.type())) {
            nativeGemm(s, x, xOff, n, out, outOff, d, count);
            return;
        }
        if ((count <= NATIVE_MAX_TOKENS || nativePrefill(w.type())) && w instanceof SegmentTensor s && n % w.type().blockSize == 0 && w.size() >= (long) d * n
                && KernelChoice.nativeFor(w.type())) {
            nativeMatmul(s, x, xOff, n, out, outOff, d, count);
            return;
        }
        if (VectorSupport.ENABLED && SMALL_BATCH && count >= 2 && count <= SmallBatchGemm.MAX_TOKENS) {
            smallBatch(w, x, xOff, n, out, outOff, d, count);
            return;
        }
        if (VectorSupport.ENABLED && count >= PanelGemm.MIN_TOKENS && d >= PanelGemm.ROWS) {
            gemm(w, x, xOff, n, out, outOff, d, count);
            return;
        }
        if (count == 1) {
            PreparedVector v = PREPARED.get();
            if (w.prepare(x, xOff, n, v)) {
                forRange(d, n, (from, to) -> {
                    for (int i = from; i < to; i++) out[outOff + i] = w.dotPrepared((long) i * n, v);
                });
                return;
            }
        }
        rowByRow(w, x, xOff, n, out, outOff, 0, d, count);
    }

    /**
     * The native kernels ({@link NativeKernels}): the tokens quantized to 8 bits per block once, on the caller, then
     * row ranges on the pool's threads, one downcall per range (a call costs tens of nanoseconds; a range is
     * thousands of rows' work), every token against each range's rows.
     */
    private static void nativeMatmul(SegmentTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        if (NativeKernels.floatActivations(w.type())) { // F16: x as it is, read in place through a heap segment
            MemorySegment xs = MemorySegment.ofArray(x).asSlice(4L * xOff, 4L * n * count);
            forRange(d, (long) n * count, (from, to) -> NativeKernels.matmul(w, n, xs, 4L * n, count, out, outOff, d, from, to));
            return;
        }
        long stride = NativeKernels.quantizedBytes(w.type(), n);
        MemorySegment xq = QUANTIZED.get().room(stride * count);
        NativeKernels.quantize(w.type(), x, xOff, n, count, xq, stride);
        forRange(d, (long) n * count, (from, to) -> NativeKernels.matmul(w, n, xq, stride, count, out, outOff, d, from, to));
    }

    /**
     * The native K-quant GEMM ({@link NativeKernels#gemm}): tokens quantized once on the caller as for
     * {@link #nativeMatmul}, then row ranges on the pool's threads, each range decoding its weights once for all tokens.
     */
    private static void nativeGemm(SegmentTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        long stride = NativeKernels.quantizedBytes(w.type(), n);
        MemorySegment xq = QUANTIZED.get().room(stride * count);
        NativeKernels.quantize(w.type(), x, xOff, n, count, xq, stride);
        // Ranges of whole 16-row panels (the GEMM's unpack unit), so that no panel is split between threads.
        int panels = (d + 15) / 16;
        if (count < 4) { // Q2_K/Q3_K decode: the library's row-by-row kernels read the quantized tokens as they are
            forRange(panels, 16L * n * count, (from, to) -> NativeKernels.gemm(w, n, xq, stride, count, out, outOff, d, 16 * from, Math.min(d, 16 * to)));
            return;
        }
        // The tokens interleaved into 16-token tiles once here, not once per row range (4 ranges per thread).
        MemorySegment packed = PACKED_TOKENS.get().room(NativeKernels.gemmPackedBytes(w.type(), n, count));
        NativeKernels.gemmPack(w.type(), n, xq, stride, count, packed);
        forRange(panels, 16L * n * count, (from, to) -> NativeKernels.gemmPacked(w, n, packed, count, out, outOff, d, 16 * from, Math.min(d, 16 * to)));
    }

    /**
     * Tokens from which a K-quant product takes the native GEMM ({@link NativeKernels#gemm}) instead of the per-token
     * native kernels or the Java panel GEMM (measured on the Xeon of bench/RESULTS.md, 1 thread, Q4_K 2048 x 1024:
     * at 4 tokens the GEMM did 27 GMAC/s against the 4-token kernels' 49, at 8 tokens 54 against 48, at 16 105 against
     * 50). {@code -Dautoglm.native.kqGemmMinTokens=N} overrides, for A/B measurements.
     */
    private static final int KQ_GEMM_MIN_TOKENS = Integer.getInteger("autoglm.native.kqGemmMinTokens", 8);

    /**
     * Q2_K and Q3_K have no per-token kernels in the library's decode path; agk_kq_gemm runs them row by row below 4
     * tokens (kq_small in kernels_kquant_gemm_x86.inc), so they take it from one token on.
     */
    private static int kqGemmMinTokens(GgmlType t) {
        return t == GgmlType.Q2_K || t == GgmlType.Q3_K ? 1 : KQ_GEMM_MIN_TOKENS;
    }

    /**
     * Q4_0 / Q8_0 through their row-interleaved copy ({@link PackedWeights}), for every token count: one token is the
     * decode kernel, more are the register-blocked GEMM (8-token tiles on AVX-512), measured faster than the Java panel
     * GEMM from 1 to 128 tokens (bench/RESULTS.md). Ranges are whole 8-row groups.
     */
    private static void packedMatmul(SegmentTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        MemorySegment packed = PackedWeights.of(w, n, d);
        long stride = NativeKernels.quantizedBytes(w.type(), n);
        MemorySegment xq = QUANTIZED.get().room(stride * count);
        NativeKernels.quantize(w.type(), x, xOff, n, count, xq, stride);
        forRange((d + 7) / 8, 8L * n * count, (g0, g1) -> NativeKernels.matmulPacked(w.type(), packed, n, d, xq, stride, count, out, outOff, g0, g1));
    }

    /**
     * Tokens up to which a product takes the native kernels (decode, and batched decode over up to 12 slots); from 13
     * tokens on the Java panel GEMM is faster (measured on the Xeon of bench/RESULTS.md, 1 thread, 2048 x 2048: at 32
     * and 64 tokens the float GEMM did 47-56 GMAC/s, the native 4-token int8 kernels 34-47; at 1-12 tokens the native
     * ones won). {@code -Dautoglm.native.maxTokens=N} overrides, for A/B measurements.
     */
    private static final int NATIVE_MAX_TOKENS = Integer.getInteger("autoglm.native.maxTokens", SmallBatchGemm.MAX_TOKENS);

    /**
     * Whether this type's native kernel also takes prefill (any token count): F16, whose 4-row x 6-token register
     * blocks (kernels_f16.inc) beat the panel GEMM end to end (pp128 at 1 thread on the Xeon of bench/RESULTS.md: 8.0-8.5 s
     * against 9.2 s, the same run), having no dequantization to a panel to do. {@code -Dautoglm.native.f16Prefill=false}
     * keeps F16 prefill on the panel GEMM, for A/B measurements.
     */
    private static boolean nativePrefill(ai.autoglm.core.tensor.GgmlType t) {
        return F16_PREFILL && NativeKernels.floatActivations(t);
    }

    private static final boolean F16_PREFILL = !"false".equals(System.getProperty("autoglm.native.f16Prefill"));

    /** The caller's quantized activations, 64-byte aligned off-heap, reused and grown on demand. */
    private static final class Quantized {
        private MemorySegment segment = MemorySegment.NULL;

        MemorySegment room(long bytes) {
            if (segment.byteSize() < bytes) segment = Arena.ofAuto().allocate(Math.max(bytes, 2 * segment.byteSize()), 64);
            return segment;
        }
    }

    private static final ThreadLocal<Quantized> QUANTIZED = ThreadLocal.withInitial(Quantized::new);
    private static final ThreadLocal<Quantized> PACKED_TOKENS = ThreadLocal.withInitial(Quantized::new);

    private static void rowByRow(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int first, int d, int count) {
        forRange(d - first, (long) n * count, (from, to) -> {
            for (int i = first + from; i < first + to; i++) w.dotMany((long) i * n, n, x, xOff, n, count, out, outOff + i, d);
        });
    }

    /**
     * Scratch, reused and grown on demand: the caller's prepared decode vector and packed prefill tokens, each
     * worker's weight panel and result stage.
     */
    private static final ThreadLocal<PreparedVector> PREPARED = ThreadLocal.withInitial(PreparedVector::new);
    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> STAGE = ThreadLocal.withInitial(() -> new float[PanelGemm.STAGE_SIZE]);

    private static float[] scratch(ThreadLocal<float[]> local, int size) {
        float[] a = local.get();
        if (a.length < size) local.set(a = new float[size]);
        return a;
    }

    /**
     * Whether 2-12 token products take {@link SmallBatchGemm} ({@code -Dautoglm.smallBatch=false}: the per-row
     * {@link FloatTensor#dotMany} kernels, for A/B measurements).
     */
    private static final boolean SMALL_BATCH = !"false".equals(System.getProperty("autoglm.smallBatch"));
    private static final ThreadLocal<SmallBatchGemm.Scratch> SMALL = ThreadLocal.withInitial(SmallBatchGemm.Scratch::new);

    /** {@link SmallBatchGemm} over groups of {@link SmallBatchGemm#ROWS} rows in parallel (the last group padded). */
    private static void smallBatch(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        int rows = SmallBatchGemm.ROWS, groups = (d + rows - 1) / rows;
        forRange(groups, (long) rows * n * count, (from, to) -> {
            SmallBatchGemm.Scratch s = SMALL.get();
            for (int g = from; g < to; g++) SmallBatchGemm.rows(w, g * rows, n, x, xOff, count, out, outOff, d, s);
        });
    }

    /** {@link PanelGemm} over panels of rows in parallel; the last {@code d % ROWS} rows row by row. */
    private static void gemm(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        float[] xt = scratch(PACKED, PanelGemm.packedSize(n, count));
        PanelGemm.packTokens(x, xOff, n, count, xt);
        int rows = PanelGemm.ROWS, panels = d / rows;
        forRange(panels, (long) rows * n * count, (from, to) -> {
            float[] panel = scratch(PANEL, rows * n), stage = STAGE.get();
            for (int p = from; p < to; p++) PanelGemm.rows(w, p * rows, n, xt, count, out, outOff, d, panel, stage);
        });
        if (panels * rows < d) rowByRow(w, x, xOff, n, out, outOff, panels * rows, d, count);
    }
}
