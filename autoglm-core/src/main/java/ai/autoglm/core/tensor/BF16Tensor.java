package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/** GGML_TYPE_BF16: the upper 16 bits of an IEEE float (ggml_bf16_t; GGML_BF16_TO_FP32 is a 16-bit left shift). */
public final class BF16Tensor extends SegmentTensor {
    BF16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float getFloat(long index) {
        return Float.intBitsToFloat(data.get(SHORT_LE, index * 2) << 16);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    float dotScalar(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += getFloat(offset + i) * x[xOffset + i];
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        if (vectorPath()) {
            VectorKernels.copyBF16(data, offset, n, out, outOffset);
            return;
        }
        for (int i = 0; i < n; i++) out[outOffset + i] = getFloat(offset + i);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotBF16(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.BF16, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
