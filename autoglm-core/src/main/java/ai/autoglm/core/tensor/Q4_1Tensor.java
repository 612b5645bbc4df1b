package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_1 (block_q4_1, 20 bytes per 32 elements): {@code ggml_half d, m; uint8_t qs[16]}, nibbles as
 * in Q4_0 but unsigned with an offset: value = nibble * d + m (ggml-quants.c dequantize_row_q4_1).
 */
public final class Q4_1Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 20;

    Q4_1Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int q = u8(base + 4 + (j & 15));
        int nibble = j < 16 ? q & 0x0F : q >>> 4;
        return nibble * half(base) + half(base + 2);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        float m = half(base + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 4 + j);
            out[outOffset + j] = (q & 0x0F) * d + m;
            out[outOffset + j + 16] = (q >>> 4) * d + m;
        }
    }

    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorKernels.dequantizeQ4_1(data, firstBlock, nBlocks, out, outOffset);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ4_1(data, firstBlock, nBlocks, x, xOffset);
    }
}
