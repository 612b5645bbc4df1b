package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.FLOAT_LANES;
import static ai.autoglm.core.tensor.VectorKernels.sum4;
import static ai.autoglm.core.tensor.VectorKernels.f32;

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
        return Kernels.dotF32(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.F32, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }

    /**
     * This type's Vector API kernels: the decode dot(s) and the dequantizer of the GEMM panels, beside the block
     * layout and scalar decode above. A nested class so that loading this tensor class never loads a Vector API
     * class (a JVM without jdk.incubator.vector runs the scalar paths: {@link VectorSupport}); only called when
     * {@link VectorSupport#ENABLED}. Shared helpers and the design notes: {@link VectorKernels}.
     */
    static final class Kernels {
        private Kernels() {
        }

        static float dotF32(MemorySegment seg, long first, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) {
                FloatVector a = f32(seg, first + i).fma(FloatVector.fromArray(F, x, xo + i), a0);
                a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
            }
            float sum = sum4(a0, a1, a2, a3);
            for (; i < n; i++) sum += seg.get(SegmentTensor.FLOAT_LE, (first + i) * 4) * x[xo + i];
            return sum;
        }
    }
}
