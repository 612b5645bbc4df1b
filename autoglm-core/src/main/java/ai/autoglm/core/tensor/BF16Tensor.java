package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.FLOAT_LANES;
import static ai.autoglm.core.tensor.VectorKernels.sum4;
import static ai.autoglm.core.tensor.VectorKernels.bf16;

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
            Kernels.copyBF16(data, offset, n, out, outOffset);
            return;
        }
        for (int i = 0; i < n; i++) out[outOffset + i] = getFloat(offset + i);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotBF16(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.BF16, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
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

        static float dotBF16(MemorySegment seg, long first, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) {
                FloatVector a = bf16(seg, first + i).fma(FloatVector.fromArray(F, x, xo + i), a0);
                a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
            }
            float sum = sum4(a0, a1, a2, a3);
            for (; i < n; i++) sum += Float.intBitsToFloat(seg.get(SegmentTensor.SHORT_LE, (first + i) * 2) << 16) * x[xo + i];
            return sum;
        }

        static void copyBF16(MemorySegment seg, long first, int n, float[] out, int oo) {
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) bf16(seg, first + i).intoArray(out, oo + i);
            for (; i < n; i++) out[oo + i] = Float.intBitsToFloat(seg.get(SegmentTensor.SHORT_LE, (first + i) * 2) << 16);
        }
    }
}
