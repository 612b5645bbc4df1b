package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/** GGML_TYPE_F32: little-endian IEEE floats, one per element. */
public final class F32Tensor extends SegmentTensor {
    F32Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.get(FLOAT_LE, index * 4);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    float dotScalar(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += data.get(FLOAT_LE, (offset + i) * 4) * x[xOffset + i];
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        MemorySegment.copy(data, FLOAT_LE, offset * 4, out, outOffset, n);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotF32(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.F32, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
