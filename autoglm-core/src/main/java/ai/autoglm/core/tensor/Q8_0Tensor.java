package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.FLOAT_LANES;
import static ai.autoglm.core.tensor.VectorKernels.PARTS;
import static ai.autoglm.core.tensor.VectorKernels.bytes16;
import static ai.autoglm.core.tensor.VectorKernels.fma16;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.store4;
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
        Kernels.dequantizeQ8_0(data, firstBlock, nBlocks, out, outOffset);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ8_0(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        Kernels.dot4Q8_0(data, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
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

        /**
         * One accumulator chain, unlike the others: two alternating chains were faster in JMH (matrix in cache) but
         * slower end to end on the 1.1 GB llama-q8_0, with and without a per-block helper; not understood yet. Q8_0
         * also has no prepared-vector kernel: x from an aligned segment was faster in cache and slower end to end, with
         * one chain or two (numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
         */
        static float dotQ8_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < nBlocks; b++, xo += 32) {
                long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
                FloatVector v = fma16(bytes16(seg, base + 2), x, xo, FloatVector.zero(F));
                v = fma16(bytes16(seg, base + 18), x, xo + 16, v);
                acc = scaled(v, VectorKernels.half(seg, base), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        static void dequantizeQ8_0(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int b = 0; b < nBlocks; b++, oo += 32) {
                long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
                float d = VectorKernels.half(seg, base);
                for (int h = 0; h < 2; h++) {
                    ByteVector q = bytes16(seg, base + 2 + 16 * h);
                    for (int p = 0; p < PARTS; p++) {
                        ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(out, oo + 16 * h + p * FLOAT_LANES);
                    }
                }
            }
        }

        static void dot4Q8_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo, int xs, float[] out, int oo, int os) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < nBlocks; b++, xo += 32) {
                long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, VectorKernels.half(seg, base));
                for (int h = 0; h < 2; h++) {
                    ByteVector q = bytes16(seg, base + 2 + 16 * h);
                    for (int p = 0; p < PARTS; p++) {
                        int o = xo + 16 * h + p * FLOAT_LANES;
                        FloatVector w = ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(d);
                        a0 = w.fma(FloatVector.fromArray(F, x, o), a0);
                        a1 = w.fma(FloatVector.fromArray(F, x, o + xs), a1);
                        a2 = w.fma(FloatVector.fromArray(F, x, o + 2 * xs), a2);
                        a3 = w.fma(FloatVector.fromArray(F, x, o + 3 * xs), a3);
                    }
                }
            }
            store4(a0, a1, a2, a3, out, oo, os);
        }
    }
}
