package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_0 (block_q4_0, 18 bytes per 32 elements): {@code ggml_half d; uint8_t qs[16]}. Element j < 16
 * is the low nibble of qs[j], element j + 16 the high nibble; value = (nibble - 8) * d
 * (ggml-quants.c dequantize_row_q4_0).
 */
public final class Q4_0Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 18;

    Q4_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int q = u8(base + 2 + (j & 15));
        int nibble = j < 16 ? q & 0x0F : q >>> 4;
        return (nibble - 8) * half(base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 2 + j);
            out[outOffset + j] = ((q & 0x0F) - 8) * d;
            out[outOffset + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorKernels.dequantizeQ4_0(data, firstBlock, nBlocks, out, outOffset);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ4_0(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Q4_0(data, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
