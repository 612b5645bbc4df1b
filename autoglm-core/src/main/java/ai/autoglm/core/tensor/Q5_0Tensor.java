package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_0 (block_q5_0, 22 bytes per 32 elements): {@code ggml_half d; uint8_t qh[4]; uint8_t qs[16]}.
 * The low 4 bits of element j come from the nibbles of qs as in Q4_0, the fifth bit is bit j of the
 * little-endian uint32 qh; value = (q - 16) * d (ggml-quants.c dequantize_row_q5_0).
 */
public final class Q5_0Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 22;

    Q5_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int qh = data.get(INT_LE, base + 2);
        int q = u8(base + 6 + (j & 15));
        int low = j < 16 ? q & 0x0F : q >>> 4;
        int value = low | (((qh >>> j) & 1) << 4);
        return (value - 16) * half(base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        int qh = data.get(INT_LE, base + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 6 + j);
            out[outOffset + j] = (((q & 0x0F) | (((qh >>> j) & 1) << 4)) - 16) * d;
            out[outOffset + j + 16] = (((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ5(data, firstBlock, nBlocks, x, xOffset, false);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorDequantizers.q5(data, firstBlock, nBlocks, false, out, outOffset);
    }
}
