package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/** GGML_TYPE_F16: little-endian IEEE 754 binary16 (ggml_half), one per element. */
public final class F16Tensor extends SegmentTensor {
    F16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return half(index * 2);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    float dotScalar(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += half((offset + i) * 2) * x[xOffset + i];
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        if (vectorPath()) {
            VectorKernels.copyF16(data, offset, n, out, outOffset);
            return;
        }
        for (int i = 0; i < n; i++) out[outOffset + i] = half((offset + i) * 2);
    }

    /** Whether no element is Inf or NaN: 0 not known yet, 1 yes, 2 no. Found once, by the first {@link #prepare}. */
    private volatile int finite;

    /**
     * x copied to an aligned segment for {@link VectorKernels#dotFiniteF16}, whose short half conversion is only
     * right for finite halves: the first call scans the whole tensor once (memory speed), and a tensor holding an
     * Inf or NaN keeps the exact conversion of {@link #dot}.
     */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath()) return false;
        if (finite == 0) finite = VectorKernels.allFiniteF16(data, size) ? 1 : 2;
        if (finite != 1) return false;
        into.copy(x, xOff, n);
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return VectorKernels.dotFiniteF16(data, offset, v.n, v.values);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotF16(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.F16, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
