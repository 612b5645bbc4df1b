package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A tensor whose elements live in a {@link MemorySegment} (usually a slice of a memory-mapped GGUF file) in
 * one GGML block layout. Subclasses give the per-element scalar decoding ({@link #getFloat}), a whole-block
 * decoder used by {@link #copyTo} and the scalar dot, and a Vector API kernel over whole blocks. The split
 * into a partial head block, whole blocks and a partial tail lives here once, so a kernel only ever sees
 * whole blocks.
 */
public abstract class SegmentTensor extends FloatTensor {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    protected final MemorySegment data;
    protected final long size;
    /** The Vector API reads segments only when native (mapped, off-heap) or backed by a byte[]. */
    private final boolean vectorPath;

    /** Use {@link Tensors#view}, which checks that {@code data} holds exactly {@code size} elements. */
    SegmentTensor(MemorySegment data, long size) {
        this.data = data;
        this.size = size;
        this.vectorPath = VectorSupport.ENABLED
                && (data.isNative() || data.heapBase().map(base -> base instanceof byte[]).orElse(false));
    }

    /** The raw bytes in the GGML layout of {@link #type()}. */
    public MemorySegment segment() {
        return data;
    }

    @Override
    public final long size() {
        return size;
    }

    /** IEEE half (ggml_half, little-endian) at byte offset {@code at}, as float (GGML_FP16_TO_FP32). */
    final float half(long at) {
        return Float.float16ToFloat(data.get(SHORT_LE, at));
    }

    final int u8(long at) {
        return data.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    /** Decodes block {@code block} (type().blockSize elements) into {@code out[outOffset ..]}. */
    abstract void dequantizeBlock(long block, float[] out, int outOffset);

    /** Vector API dot of whole blocks {@code [firstBlock, firstBlock + nBlocks)} with {@code x[xOffset ..]}. */
    abstract float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset);

    /**
     * Vector API dot of whole blocks with {@link #TOKENS_PER_PASS} vectors at once ({@code x[xOffset + t*xStride ..]}),
     * results to {@code out[outOffset + t*outStride]}. Kernels that decode a block once for all of them override
     * this; the default runs {@link #vectorDot} per vector.
     */
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        for (int t = 0; t < TOKENS_PER_PASS; t++) {
            out[outOffset + t * outStride] = vectorDot(firstBlock, nBlocks, x, xOffset + t * xStride);
        }
    }

    /** Tokens per pass of the register-blocked kernels: 4 accumulators of 16 floats, with the decoded weights, fit the 32 AVX-512 registers. */
    static final int TOKENS_PER_PASS = 4;

    @Override
    public void dotMany(long offset, int n, float[] x, int xOffset, int xStride, int count, float[] out, int outOffset, int outStride) {
        int bs = type().blockSize;
        if (!vectorPath || offset % bs != 0 || n % bs != 0) {
            super.dotMany(offset, n, x, xOffset, xStride, count, out, outOffset, outStride);
            return;
        }
        long first = offset / bs;
        int blocks = n / bs, t = 0;
        for (; t + TOKENS_PER_PASS <= count; t += TOKENS_PER_PASS) {
            vectorDot4(first, blocks, x, xOffset + t * xStride, xStride, out, outOffset + t * outStride, outStride);
        }
        for (; t < count; t++) out[outOffset + t * outStride] = vectorDot(first, blocks, x, xOffset + t * xStride);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        return vectorPath ? dotVector(offset, x, xOffset, n) : dotScalar(offset, x, xOffset, n);
    }

    /** The scalar path: whole blocks decoded one at a time, partial blocks element by element. */
    float dotScalar(long offset, float[] x, int xOffset, int n) {
        int bs = type().blockSize;
        float[] block = new float[bs];
        float sum = 0f;
        int i = 0;
        while (i < n) {
            long e = offset + i;
            if (e % bs == 0 && n - i >= bs) {
                dequantizeBlock(e / bs, block, 0);
                for (int j = 0; j < bs; j++) sum += block[j] * x[xOffset + i + j];
                i += bs;
            } else {
                sum += getFloat(e) * x[xOffset + i];
                i++;
            }
        }
        return sum;
    }

    /** The Vector API path: partial head and tail blocks scalar, whole blocks in {@link #vectorDot}. */
    float dotVector(long offset, float[] x, int xOffset, int n) {
        int bs = type().blockSize;
        float sum = 0f;
        int i = 0;
        while (i < n && (offset + i) % bs != 0) {
            sum += getFloat(offset + i) * x[xOffset + i];
            i++;
        }
        int blocks = (n - i) / bs;
        if (blocks > 0) {
            sum += vectorDot((offset + i) / bs, blocks, x, xOffset + i);
            i += blocks * bs;
        }
        for (; i < n; i++) sum += getFloat(offset + i) * x[xOffset + i];
        return sum;
    }

    /** Whether the Vector API kernels may read this tensor's segment. */
    final boolean vectorPath() {
        return vectorPath;
    }

    /**
     * Vector API dequantization of whole blocks into {@code out[outOffset ..]} (the prefill GEMM's panels, see
     * {@link PanelGemm}); the default decodes block by block with the scalar {@link #dequantizeBlock}.
     */
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        for (int b = 0; b < nBlocks; b++) dequantizeBlock(firstBlock + b, out, outOffset + b * type().blockSize);
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        int bs = type().blockSize;
        if (vectorPath && offset % bs == 0 && n % bs == 0) {
            vectorDequantize(offset / bs, n / bs, out, outOffset);
            return;
        }
        int i = 0;
        while (i < n) {
            long e = offset + i;
            if (e % bs == 0 && n - i >= bs) {
                dequantizeBlock(e / bs, out, outOffset + i);
                i += bs;
            } else {
                out[outOffset + i] = getFloat(e);
                i++;
            }
        }
    }
}
