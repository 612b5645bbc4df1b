package ai.autoglm.core.tensor;

/**
 * A read-only, row-major view of weights in one GGML layout (the shape of llama3.java's FloatTensor):
 * each subclass knows its block layout, gives a scalar {@link #getFloat} that is the reference, and
 * overrides {@link #dot} with a Vector API kernel that works on the blocks in place. Weights stay in the
 * (usually memory-mapped) segment they were loaded from; nothing is copied onto the heap.
 *
 * <h2>Which kernel each type has, per product path</h2>
 * The engine's matrix product ({@code core.model.Parallel.matmul}) picks the path by the number of tokens k, when
 * the Vector API is on ({@link VectorSupport#ENABLED}; off, every path is the scalar {@link #dot}): k = 1 the
 * prepared-vector kernel where the type has one ({@link #prepare} / {@link #dotPrepared}), else {@link #dot};
 * k = 2..{@link SmallBatchGemm#MAX_TOKENS} {@link SmallBatchGemm} (weights dequantized once per step by
 * {@link #copyTo}, then float FMAs against all k tokens); larger k {@link PanelGemm} (the prefill GEMM, also through
 * {@link #copyTo}); {@link #dotMany} only when those are switched off ({@code -Dautoglm.smallBatch=false}) or a
 * matrix has fewer than {@link PanelGemm#ROWS} rows. So a type's {@link #copyTo} is its speed in batched decode and
 * prefill, and its single-token dot (plain or prepared) its speed in one-sequence decode.
 * <table>
 *   <caption>GGML type x product path ("vector" = a Vector API kernel on the blocks in place; "scalar" = block
 *   decoded by the scalar decoder)</caption>
 *   <tr><th>type</th><th>{@link #getFloat}</th><th>k = 1 {@link #dot}</th><th>k = 1 prepared</th>
 *       <th>{@link #dotMany} (4 tokens per block decode)</th><th>{@link #copyTo}: SmallBatchGemm k = 2..12 and
 *       PanelGemm</th><th>prepared / repacked forms</th></tr>
 *   <tr><td>F32 ({@link F32Tensor})</td><td>yes</td><td>vector</td><td>no</td><td>yes</td><td>memory copy</td><td>none</td></tr>
 *   <tr><td>F32 on the heap ({@link ArrayFloatTensor}: LoRA factors, test weights)</td><td>yes</td><td>scalar</td>
 *       <td>no</td><td>no</td><td>array copy</td><td>none</td></tr>
 *   <tr><td>F16</td><td>yes</td><td>vector</td><td>yes, tensors without Inf/NaN (x copied 64-byte aligned; a
 *       4-operation half conversion)</td><td>yes</td><td>vector</td><td>one finiteness scan of the tensor, on its
 *       first prepared dot</td></tr>
 *   <tr><td>BF16</td><td>yes</td><td>vector</td><td>no</td><td>yes</td><td>vector</td><td>none</td></tr>
 *   <tr><td>Q8_0</td><td>yes</td><td>vector</td><td>no (measured slower end to end)</td><td>yes</td><td>vector</td><td>none</td></tr>
 *   <tr><td>Q4_0</td><td>yes</td><td>vector</td><td>yes (x rearranged per 32-block into y, z and the block's
 *       sum)</td><td>yes</td><td>vector</td><td>none</td></tr>
 *   <tr><td>Q4_1</td><td>yes</td><td>vector</td><td>no</td><td>no</td><td>vector</td><td>none</td></tr>
 *   <tr><td>Q5_0, Q5_1</td><td>yes</td><td>vector</td><td>no</td><td>no</td><td>vector ({@link Q5_0Tensor.Kernels#q5})</td><td>none</td></tr>
 *   <tr><td>Q2_K, Q3_K</td><td>yes</td><td>scalar decode + vector float dot, per block (correct, not tuned)</td>
 *       <td>no</td><td>no</td><td>scalar</td><td>none</td></tr>
 *   <tr><td>Q4_K, Q5_K, Q6_K</td><td>yes</td><td>vector</td><td>yes (x plus per-sub-block sums, {@link KQuantPrepare})</td>
 *       <td>no</td><td>vector ({@code Kernels.q4_K}, {@code q5_K}, {@code q6_K})</td><td>the block scales repacked into a float table
 *       ({@link KQuantScales}, 64 bytes per block, off-heap), built on the tensor's first prepared dot</td></tr>
 * </table>
 * Each type's kernels live in its own class (llama3.java's layout): block layout and scalar {@link #getFloat} in
 * the class, its Vector API dot(s) and dequantizer in the class's nested {@code Kernels} (for example
 * {@link Q4_0Tensor.Kernels}); what several types share (species, loaders, the half table, the 4-token plain-float
 * dot, attention helpers) is in {@link VectorKernels}.
 * Weights are never repacked out of their GGML layout (they stay in the mapped file); the Q4_0, Q4_1 and Q8_0 dots
 * read their block scales through a 64K-entry half-to-float table ({@code VectorKernels.half}). No path uses
 * int8 activations: every kernel multiplies in float (8-bit activations were tried and not adopted; the integer
 * dot products the Vector API reaches on JDK 25 were probed, {@code IntDotProbe}). The numbers behind these
 * choices are in {@code bench/RESULTS.md} ("Numbers behind the kernels' design"). {@code TensorTypesTest},
 * {@code KQuantDecodeTest}, {@code LowBitKQuantTest}, {@code SmallBatchGemmTest} and {@code MatmulTest} (the engine's
 * dispatch, every k from 1 to 70) check every path of this table
 * against {@link #getFloat}.
 */
public abstract class FloatTensor {

    /** Number of elements. */
    public abstract long size();

    /** The layout of the underlying data. */
    public abstract GgmlType type();

    /** Element {@code index}, dequantized. The scalar reference every kernel is tested against. */
    public abstract float getFloat(long index);

    /**
     * Dot product of elements {@code [offset, offset + n)} of this tensor with {@code x[xOffset .. xOffset + n)}.
     * {@code offset} is a multiple of the block size whenever callers pass row starts of a matrix whose row
     * length is a multiple of the block size (always true for GGML files). The default is the scalar path.
     */
    public float dot(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * One row against several vectors: {@code out[outOffset + t*outStride] = dot(offset, x, xOffset + t*xStride, n)}
     * for {@code t < count}. The matrix-matrix product of prefill is this per row, so a kernel can decode each
     * weight block once and apply it to several tokens (register blocking); the default loops {@link #dot}.
     */
    public void dotMany(long offset, int n, float[] x, int xOffset, int xStride, int count, float[] out, int outOffset, int outStride) {
        for (int t = 0; t < count; t++) out[outOffset + t * outStride] = dot(offset, x, xOffset + t * xStride, n);
    }

    /**
     * Prepares {@code x[xOff .. xOff + n)} for {@link #dotPrepared} with rows of n elements of this tensor, or
     * returns false when this type's kernel has no use for it (then callers use {@link #dot}). Worth it for a
     * whole matrix-vector product: the preparation is O(n), paid once for all rows.
     */
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        return false;
    }

    /** The dot of the row starting at {@code offset} with the vector {@link #prepare} returned true for. */
    public float dotPrepared(long offset, PreparedVector v) {
        throw new UnsupportedOperationException(type() + " has no prepared-vector kernel");
    }

    /** Copies elements {@code [offset, offset + n)} dequantized into {@code out[outOffset ..]}. */
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }
}
