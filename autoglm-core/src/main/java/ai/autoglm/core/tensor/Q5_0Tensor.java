package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.B16;
import static ai.autoglm.core.tensor.VectorKernels.bytes16;
import static ai.autoglm.core.tensor.VectorKernels.srl;
import static ai.autoglm.core.tensor.VectorKernels.fma16;
import static ai.autoglm.core.tensor.VectorKernels.sumX;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.scaleStore;
import static ai.autoglm.core.tensor.VectorKernels.float16At;

/**
 * GGML_TYPE_Q5_0 (block_q5_0, 22 bytes per 32 elements): {@code ggml_half d; uint8_t qh[4]; uint8_t qs[16]}.
 * The low 4 bits of element j come from the nibbles of qs as in Q4_0, the fifth bit is bit j of the
 * little-endian uint32 qh; value = (q - 16) * d (ggml-quants.c dequantize_row_q5_0).
 */
public final class Q5_0Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 22;

    Q5_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int qh = data.get(INT_LE, base + 2);
        int q = u8(base + 6 + (j & 15));
        int low = j < 16 ? q & 0x0F : q >>> 4;
        int value = low | (((qh >>> j) & 1) << 4);
        return (value - 16) * half(base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        int qh = data.get(INT_LE, base + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 6 + j);
            out[outOffset + j] = (((q & 0x0F) | (((qh >>> j) & 1) << 4)) - 16) * d;
            out[outOffset + j + 16] = (((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ5(data, firstBlock, nBlocks, x, xOffset, false);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        Kernels.q5(data, firstBlock, nBlocks, false, out, outOffset);
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

        /** Q5_0 (withMin false: value (q - 16) * d) and Q5_1 (withMin true: value q * d + m). */
        static float dotQ5(MemorySegment seg, long first, int nBlocks, float[] x, int xo, boolean withMin) {
            int bytes = withMin ? Q5_1Tensor.BLOCK_BYTES : Q5_0Tensor.BLOCK_BYTES;
            int qhAt = withMin ? 4 : 2;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < nBlocks; b++, xo += 32) {
                long base = (first + b) * bytes;
                int qh = seg.get(SegmentTensor.INT_LE, base + qhAt);
                ByteVector q = bytes16(seg, base + qhAt + 4);
                // The fifth bit of element j is bit j of qh: a lane mask straight from the bits.
                ByteVector lo = q.and((byte) 0x0F).add((byte) 16, VectorMask.fromLong(B16, qh & 0xFFFF));
                ByteVector hi = srl(q, 4).and((byte) 0x0F)
                        .add((byte) 16, VectorMask.fromLong(B16, (qh >>> 16) & 0xFFFF));
                if (!withMin) {
                    lo = lo.sub((byte) 16);
                    hi = hi.sub((byte) 16);
                }
                FloatVector v = fma16(hi, x, xo + 16, fma16(lo, x, xo, FloatVector.zero(F)));
                acc = scaled(v, VectorKernels.half(seg, base), acc);
                if (withMin) acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), VectorKernels.half(seg, base + 2), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** Q5_0 ({@code withMin} false: (q - 16) * d) and Q5_1 (true: q * d + m); the fifth bit of element j is bit j of qh. */
        static void q5(MemorySegment seg, long first, int nBlocks, boolean withMin, float[] out, int oo) {
            int bytes = withMin ? Q5_1Tensor.BLOCK_BYTES : Q5_0Tensor.BLOCK_BYTES, qhAt = withMin ? 4 : 2;
            for (int b = 0; b < nBlocks; b++, oo += 32) {
                long base = (first + b) * bytes;
                float d = float16At(seg, base), m = withMin ? float16At(seg, base + 2) : 0f;
                int qh = seg.get(SegmentTensor.INT_LE, base + qhAt);
                ByteVector q = bytes16(seg, base + qhAt + 4);
                ByteVector lo = q.and((byte) 0x0F).add((byte) 16, VectorMask.fromLong(B16, qh & 0xFFFF));
                ByteVector hi = srl(q, 4).and((byte) 0x0F).add((byte) 16, VectorMask.fromLong(B16, (qh >>> 16) & 0xFFFF));
                if (!withMin) {
                    lo = lo.sub((byte) 16);
                    hi = hi.sub((byte) 16);
                }
                // a - b is a + (-b) in IEEE 754, so "q * d - (-m)" is the scalar's "q * d + m" bit for bit; without a
                // min subtract +0 (x - 0 is x even for x = -0, where x - (-0) would give +0)
                float sub = withMin ? -m : 0f;
                scaleStore(lo, d, sub, out, oo);
                scaleStore(hi, d, sub, out, oo + 16);
            }
        }
    }
}
