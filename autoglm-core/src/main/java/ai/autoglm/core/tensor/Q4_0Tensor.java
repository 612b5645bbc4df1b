package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.FLOAT_LANES;
import static ai.autoglm.core.tensor.VectorKernels.I;
import static ai.autoglm.core.tensor.VectorKernels.PARTS;
import static ai.autoglm.core.tensor.VectorKernels.LE;
import static ai.autoglm.core.tensor.VectorKernels.bytes16;
import static ai.autoglm.core.tensor.VectorKernels.srl;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.store4;
import static ai.autoglm.core.tensor.VectorKernels.dequantizeNibbles;

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
        Kernels.dequantizeQ4_0(data, firstBlock, nBlocks, out, outOffset);
    }

    /**
     * The decode kernel's form of x, per 32-element block: {@code y[j] = x[j] - x[j+16]/16} and
     * {@code z[j] = x[j+16]/16} for j < 16, and {@code -8 S / FLOAT_LANES} for the block's sum S of x. With the
     * block's bytes {@code q[j] = lo[j] + 16 hi[j]} (element j is {@code lo[j] - 8}, element j + 16 is
     * {@code hi[j] - 8}), its dot with x is {@code d * (sum lo[j] y[j] + q[j] z[j] - 8 S)}: the kernel converts the
     * whole byte and its low nibble to floats, with no shift, no high-nibble conversion and no {@code - 8} per
     * weight (-8 S, spread over the lanes, is the start value of the block's sum). Only on the Vector API path
     * and for rows of whole blocks.
     */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || n % 32 != 0) return false;
        int blocks = n / 32;
        float[] v = into.stage(n, blocks);
        for (int b = 0; b < blocks; b++) {
            int o = b * 32, xo = xOff + o;
            float sum = 0f;
            for (int j = 0; j < 16; j++) {
                float a = x[xo + j], high = x[xo + 16 + j];
                v[o + j] = a - high / 16;
                v[o + 16 + j] = high / 16;
                sum += a + high;
            }
            v[n + b] = -8 * sum / VectorKernels.FLOAT_LANES; // the kernel's start value, in every lane
        }
        into.publish();
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return Kernels.dotQ4_0Prepared(data, offset / 32, v.n / 32, v.values, 4L * v.n);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ4_0(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        Kernels.dot4Q4_0(data, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
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

        /** The float 2^23: OR-ing an integer n < 2^23 into its mantissa gives the float 2^23 + n. */
        private static final int TWO_POW_23_BITS = 0x4B000000;

        /**
         * One Q4_0 block (at byte {@code base}) dotted with x[xo .. xo + 32), times its scale, added to acc. The 16 bytes are widened to int lanes once and both nibbles taken
         * from them (the high one by a shift, exact since the bytes are zero-extended); each nibble becomes a float
         * by the exponent trick, (2^23 | n) - (2^23 + 8) = n - 8 exactly, which costs one OR (fused with the AND into
         * one vpternlogd by C2) and one subtract instead of a byte subtract, a sign extension and an int-to-float
         * conversion per nibble vector.
         */
        private static FloatVector blockQ4_0(MemorySegment seg, long base, float[] x, int xo, FloatVector acc) {
            ByteVector q = bytes16(seg, base + 2);
            FloatVector v = FloatVector.zero(F);
            for (int p = 0; p < PARTS; p++) {
                IntVector qi = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                FloatVector lo = qi.and(0x0F).or(TWO_POW_23_BITS).reinterpretAsFloats().sub(0x1p23f + 8);
                FloatVector hi = qi.lanewise(VectorOperators.LSHR, 4).or(TWO_POW_23_BITS).reinterpretAsFloats().sub(0x1p23f + 8);
                v = lo.fma(FloatVector.fromArray(F, x, xo + p * FLOAT_LANES), v);
                v = hi.fma(FloatVector.fromArray(F, x, xo + 16 + p * FLOAT_LANES), v);
            }
            return scaled(v, VectorKernels.half(seg, base), acc);
        }

        /** Consecutive blocks into two alternating accumulators (see VectorKernels). */
        static float dotQ4_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long base = first * Q4_0Tensor.BLOCK_BYTES;
            for (int b = 0; b < nBlocks; b++, xo += 32, base += Q4_0Tensor.BLOCK_BYTES) {
                FloatVector a = blockQ4_0(seg, base, x, xo, a0);
                a0 = a1; a1 = a; // rotate: consecutive blocks go to different chains
            }
            return a0.add(a1).reduceLanes(VectorOperators.ADD);
        }

        /**
         * Q4_0 rows against x in the form {@link Q4_0Tensor#prepare} documents: per block, the 16 bytes zero-extended
         * to int lanes once, the whole byte and its low nibble converted to floats, two multiply-adds with y and z
         * onto a start value that carries the block's -8 S (spread over the lanes), then the block's scale once. Two
         * alternating accumulators. (The -8 S summed in a scalar instead was a serial chain of float adds, 3 cycles a
         * block, slower than all the vector work.)
         */
        static float dotQ4_0Prepared(MemorySegment seg, long first, int nBlocks, MemorySegment yz, long startsAt) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long start = first * Q4_0Tensor.BLOCK_BYTES;
            for (int b = 0; b < nBlocks; b++) {
                long base = start + (long) b * Q4_0Tensor.BLOCK_BYTES, o = b * 128L; // o: 32 floats per block
                ByteVector q = bytes16(seg, base + 2);
                FloatVector v = FloatVector.broadcast(F, yz.get(SegmentTensor.FLOAT_LE, startsAt + 4L * b));
                for (int p = 0; p < PARTS; p++) {
                    IntVector qi = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    FloatVector whole = (FloatVector) qi.convert(VectorOperators.I2F, 0);
                    FloatVector low = (FloatVector) qi.and(0x0F).convert(VectorOperators.I2F, 0);
                    v = low.fma(FloatVector.fromMemorySegment(F, yz, o + 4L * p * FLOAT_LANES, LE), v);
                    v = whole.fma(FloatVector.fromMemorySegment(F, yz, o + 64 + 4L * p * FLOAT_LANES, LE), v);
                }
                FloatVector a = scaled(v, VectorKernels.half(seg, base), a0);
                a0 = a1; a1 = a; // rotate: consecutive blocks go to different chains
            }
            return a0.add(a1).reduceLanes(VectorOperators.ADD);
        }

        static void dequantizeQ4_0(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int b = 0; b < nBlocks; b++, oo += 32) dequantizeNibbles(seg, (first + b) * Q4_0Tensor.BLOCK_BYTES, false, out, oo);
        }

        static void dot4Q4_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo, int xs, float[] out, int oo, int os) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < nBlocks; b++, xo += 32) {
                long base = (first + b) * Q4_0Tensor.BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, VectorKernels.half(seg, base));
                ByteVector q = bytes16(seg, base + 2);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = srl(q, 4).and((byte) 0x0F).sub((byte) 8);
                for (int p = 0; p < PARTS; p++) {
                    int o = xo + p * FLOAT_LANES;
                    FloatVector wl = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).mul(d);
                    FloatVector wh = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).mul(d);
                    a0 = wh.fma(FloatVector.fromArray(F, x, o + 16), wl.fma(FloatVector.fromArray(F, x, o), a0));
                    a1 = wh.fma(FloatVector.fromArray(F, x, o + xs + 16), wl.fma(FloatVector.fromArray(F, x, o + xs), a1));
                    a2 = wh.fma(FloatVector.fromArray(F, x, o + 2 * xs + 16), wl.fma(FloatVector.fromArray(F, x, o + 2 * xs), a2));
                    a3 = wh.fma(FloatVector.fromArray(F, x, o + 3 * xs + 16), wl.fma(FloatVector.fromArray(F, x, o + 3 * xs), a3));
                }
            }
            store4(a0, a1, a2, a3, out, oo, os);
        }
    }
}
