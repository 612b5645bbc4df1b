package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGML_TYPE_Q8_0 (ggml-common.h block_q8_0, 34 bytes per 32 elements): {@code ggml_half d; int8_t qs[32]},
 * value = qs[j] * d (ggml-quants.c dequantize_row_q8_0).
 */
public final class Q8_0Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 34;

    Q8_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        return data.get(ValueLayout.JAVA_BYTE, base + 2 + j) * half(base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        for (int j = 0; j < 32; j++) out[outOffset + j] = data.get(ValueLayout.JAVA_BYTE, base + 2 + j) * d;
    }

    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorKernels.dequantizeQ8_0(data, firstBlock, nBlocks, out, outOffset);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ8_0(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Q8_0(data, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
