package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.bytes16;
import static ai.autoglm.core.tensor.VectorKernels.srl;
import static ai.autoglm.core.tensor.VectorKernels.fma16;
import static ai.autoglm.core.tensor.VectorKernels.sumX;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.dequantizeNibbles;

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
        Kernels.dequantizeQ4_1(data, firstBlock, nBlocks, out, outOffset);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ4_1(data, firstBlock, nBlocks, x, xOffset);
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

        static float dotQ4_1(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < nBlocks; b++, xo += 32) {
                long base = (first + b) * Q4_1Tensor.BLOCK_BYTES;
                ByteVector q = bytes16(seg, base + 4);
                ByteVector lo = q.and((byte) 0x0F);
                ByteVector hi = srl(q, 4).and((byte) 0x0F);
                FloatVector v = fma16(hi, x, xo + 16, fma16(lo, x, xo, FloatVector.zero(F)));
                acc = scaled(v, VectorKernels.half(seg, base), acc);
                acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), VectorKernels.half(seg, base + 2), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        static void dequantizeQ4_1(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int b = 0; b < nBlocks; b++, oo += 32) dequantizeNibbles(seg, (first + b) * Q4_1Tensor.BLOCK_BYTES, true, out, oo);
        }
    }
}
