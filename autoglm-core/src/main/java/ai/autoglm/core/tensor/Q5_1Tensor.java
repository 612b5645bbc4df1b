package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_1 (block_q5_1, 24 bytes per 32 elements): {@code ggml_half d, m; uint8_t qh[4]; uint8_t qs[16]},
 * 5-bit values assembled as in Q5_0 but unsigned: value = q * d + m (ggml-quants.c dequantize_row_q5_1).
 */
public final class Q5_1Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 24;

    Q5_1Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int qh = data.get(INT_LE, base + 4);
        int q = u8(base + 8 + (j & 15));
        int low = j < 16 ? q & 0x0F : q >>> 4;
        int value = low | (((qh >>> j) & 1) << 4);
        return value * half(base) + half(base + 2);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        float m = half(base + 2);
        int qh = data.get(INT_LE, base + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 8 + j);
            out[outOffset + j] = ((q & 0x0F) | (((qh >>> j) & 1) << 4)) * d + m;
            out[outOffset + j + 16] = ((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Q5_0Tensor.Kernels.dotQ5(data, firstBlock, nBlocks, x, xOffset, true);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        Q5_0Tensor.Kernels.q5(data, firstBlock, nBlocks, true, out, outOffset);
    }
}
