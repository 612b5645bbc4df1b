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
import static ai.autoglm.core.tensor.VectorKernels.bytes16;
import static ai.autoglm.core.tensor.VectorKernels.srl;
import static ai.autoglm.core.tensor.VectorKernels.sll4;
import static ai.autoglm.core.tensor.VectorKernels.sll;
import static ai.autoglm.core.tensor.VectorKernels.fma16;
import static ai.autoglm.core.tensor.VectorKernels.sumX;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.prepared;
import static ai.autoglm.core.tensor.VectorKernels.scale;
import static ai.autoglm.core.tensor.VectorKernels.minsPrepared;
import static ai.autoglm.core.tensor.VectorKernels.scaleStore;
import static ai.autoglm.core.tensor.VectorKernels.float16At;

/**
 * GGML_TYPE_Q5_K (block_q5_K, 176 bytes per 256 elements):
 * {@code ggml_half d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]}. Like Q4_K plus a fifth bit:
 * element l of sub-block s takes bit s of qh[l] (ggml-quants.c dequantize_row_q5_K, masks u1/u2 shifted by 2
 * per 64-element chunk). value = (d * sc) * q - (dmin * m).
 */
public final class Q5_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 176;

    Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int c = e >>> 6, within = e & 63, l = within & 31;
        boolean high = within >= 32;
        int sub = 2 * c + (high ? 1 : 0);
        int sm = Q4_KTensor.scaleMin(data, base + 4, sub);
        float d = half(base) * (sm & 0xFF);
        float m = half(base + 2) * (sm >>> 8);
        int ql = u8(base + 48 + 32 * c + l);
        int q = (high ? ql >>> 4 : ql & 0x0F) + (((u8(base + 16 + l) >>> sub) & 1) << 4);
        return d * q - m;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base), min = half(base + 2);
        int o = outOffset;
        for (int c = 0; c < 4; c++) {
            int sm1 = Q4_KTensor.scaleMin(data, base + 4, 2 * c), sm2 = Q4_KTensor.scaleMin(data, base + 4, 2 * c + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
            long qs = base + 48 + 32 * c;
            for (int l = 0; l < 32; l++) {
                int qh = u8(base + 16 + l);
                int ql = u8(qs + l);
                out[o + l] = d1 * ((ql & 0x0F) + (((qh >>> (2 * c)) & 1) << 4)) - m1;
                out[o + 32 + l] = d2 * ((ql >>> 4) + (((qh >>> (2 * c + 1)) & 1) << 4)) - m2;
            }
            o += 64;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ5_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        Kernels.q5_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scalesMins = new KQuantScales.Lazy(() -> KQuantScales.q4or5(data, size / 256, BLOCK_BYTES));

    /** x for {@link Kernels#dotQ5_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, false)) return false;
        scalesMins.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return Kernels.dotQ5_KPrepared(data, scalesMins.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
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
         * Q5_K: as Q4_K plus the fifth bit of element l of sub-block j, bit j of qh[l]. One iteration per 32-element
         * sub-block j of block b (the low nibbles of chunk j/2 for even j, the high ones for odd j), and the mins in a
         * second loop: anything larger per iteration exceeded C2's inlining node budget, as described in VectorKernels.
         */
        static float dotQ5_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0, subBlocks = 8 * nBlocks, y = xo; k < subBlocks; k++, y += 32) {
                long base = (first + (k >>> 3)) * Q5_KTensor.BLOCK_BYTES;
                int j = k & 7;
                int sm = Q4_KTensor.scaleMin(seg.get(SegmentTensor.LONG_LE, base + 4), seg.get(SegmentTensor.INT_LE, base + 12), j);
                long qs = base + 48 + 32 * (j >>> 1);
                int nibble = 4 * (j & 1);
                ByteVector lo = srl(bytes16(seg, qs), nibble).and((byte) 0x0F).add(fifthBit(bytes16(seg, base + 16), j));
                ByteVector hi = srl(bytes16(seg, qs + 16), nibble).and((byte) 0x0F).add(fifthBit(bytes16(seg, base + 32), j));
                FloatVector v = fma16(hi, x, y + 16, fma16(lo, x, y, FloatVector.zero(F)));
                acc = scaled(v, VectorKernels.half(seg, base) * (sm & 0xFF), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD) - kQuantMins(seg, first, nBlocks, Q5_KTensor.BLOCK_BYTES, x, xo);
        }

        /** Sum over the sub-blocks j of Q4_K/Q5_K blocks of dmin * m_j * (sum of x over sub-block j). */
        private static float kQuantMins(MemorySegment seg, long first, int nBlocks, int blockBytes, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0, subBlocks = 8 * nBlocks; k < subBlocks; k++, xo += 32) {
                long base = (first + (k >>> 3)) * blockBytes;
                int sm = Q4_KTensor.scaleMin(seg.get(SegmentTensor.LONG_LE, base + 4), seg.get(SegmentTensor.INT_LE, base + 12), k & 7);
                acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), VectorKernels.half(seg, base + 2) * (sm >>> 8), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** 16 where bit {@code bit} of the qh byte is set, else 0. */
        private static ByteVector fifthBit(ByteVector qh, int bit) {
            return sll4(srl(qh, bit).and((byte) 1));
        }

        /**
         * Q5_K: as {@link Q4_KTensor.Kernels#dotQ4_KPrepared} with the fifth bit of element l of sub-block j, bit j of qh[l], OR-ed in as 16;
         * the even sub-blocks (low nibbles) and the odd ones (high nibbles; the row is in L1 by then) in two loops, each
         * small enough for C2's inlining budget, then the mins.
         */
        static float dotQ5_KPrepared(MemorySegment seg, MemorySegment sf, long first, int nBlocks, MemorySegment xs, long extraAt) {
            return q5KHalf(seg, sf, first, nBlocks, xs, 0) + q5KHalf(seg, sf, first, nBlocks, xs, 1) + minsPrepared(sf, first, nBlocks, xs, extraAt);
        }

        /** The Q5_K sub-blocks 2c + odd (c < 4) of every block, without the mins. */
        private static float q5KHalf(MemorySegment seg, MemorySegment sf, long first, int nBlocks, MemorySegment xs, int odd) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long xc = 128L * odd;
            for (int k = 0, chunks = 4 * nBlocks; k < chunks; k++, xc += 256) {
                long blk = first + (k >>> 2), base = blk * Q5_KTensor.BLOCK_BYTES, qs = base + 48 + 32 * (k & 3);
                int bit = 2 * (k & 3) + odd;
                ByteVector q0 = bytes16(seg, qs), q1 = bytes16(seg, qs + 16);
                ByteVector h0 = bytes16(seg, base + 16), h1 = bytes16(seg, base + 32);
                FloatVector v = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    // the nibble, and qh bit 2c + odd moved to bit 4
                    IntVector i0 = ((IntVector) q0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 4 * odd).and(0x0F);
                    IntVector i1 = ((IntVector) q1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 4 * odd).and(0x0F);
                    IntVector g0 = ((IntVector) h0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, bit);
                    IntVector g1 = ((IntVector) h1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, bit);
                    long xp = xc + 4L * p * FLOAT_LANES;
                    v = ((FloatVector) i0.or(g0.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp), v);
                    v = ((FloatVector) i1.or(g1.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp + 64), v);
                }
                FloatVector a = v.fma(scale(sf, 16 * blk + bit), a0);
                a0 = a1; a1 = a; // rotate: consecutive chunks go to different chains
            }
            return a0.add(a1).reduceLanes(VectorOperators.ADD);
        }

        /** Q5_K: as Q4_K plus the fifth bit of element l of sub-block j, bit j of qh[l]; one iteration per sub-block. */
        static void q5_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int k = 0, subBlocks = 8 * nBlocks; k < subBlocks; k++, oo += 32) {
                long base = (first + (k >>> 3)) * Q5_KTensor.BLOCK_BYTES;
                int j = k & 7;
                int sm = Q4_KTensor.scaleMin(seg.get(SegmentTensor.LONG_LE, base + 4), seg.get(SegmentTensor.INT_LE, base + 12), j);
                float dj = float16At(seg, base) * (sm & 0xFF), mj = float16At(seg, base + 2) * (sm >>> 8);
                long qs = base + 48 + 32 * (j >>> 1);
                int nibble = 4 * (j & 1);
                ByteVector lo = srl(bytes16(seg, qs), nibble).and((byte) 0x0F).add(sll(srl(bytes16(seg, base + 16), j).and((byte) 1), 4));
                ByteVector hi = srl(bytes16(seg, qs + 16), nibble).and((byte) 0x0F).add(sll(srl(bytes16(seg, base + 32), j).and((byte) 1), 4));
                scaleStore(lo, dj, mj, out, oo);
                scaleStore(hi, dj, mj, out, oo + 16);
            }
        }
    }
}
