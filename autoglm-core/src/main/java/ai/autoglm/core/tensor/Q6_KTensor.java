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
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.prepared;
import static ai.autoglm.core.tensor.VectorKernels.scale;
import static ai.autoglm.core.tensor.VectorKernels.minsPrepared;
import static ai.autoglm.core.tensor.VectorKernels.scaleStore;
import static ai.autoglm.core.tensor.VectorKernels.float16At;
import java.lang.foreign.ValueLayout;

/**
 * GGML_TYPE_Q6_K (block_q6_K, 210 bytes per 256 elements):
 * {@code uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d}. Each 128-element half h uses
 * ql[64h ..], qh[32h ..] and scales[8h ..]; within it, group g (0..3) of 32 elements takes the low (g < 2) or
 * high nibble of ql[l + 32 * (g & 1)] and bits 2g..2g+1 of qh[l]; 16 elements share one int8 scale.
 * value = (d * scale) * (q - 32) (ggml-quants.c dequantize_row_q6_K).
 */
public final class Q6_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 210;

    Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int h = e >>> 7, r = e & 127, g = r >>> 5, l = r & 31;
        int ql = u8(base + 64 * h + l + 32 * (g & 1));
        int low = g < 2 ? ql & 0x0F : ql >>> 4;
        int high = (u8(base + 128 + 32 * h + l) >>> (2 * g)) & 3;
        int q = (low | (high << 4)) - 32;
        int sc = data.get(ValueLayout.JAVA_BYTE, base + 192 + 8 * h + (l >>> 4) + 2 * g);
        return half(base + 208) * sc * q;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base + 208);
        for (int h = 0; h < 2; h++) {
            long ql = base + 64 * h, qh = base + 128 + 32 * h, sc = base + 192 + 8 * h;
            int o = outOffset + 128 * h;
            for (int l = 0; l < 32; l++) {
                int is = l >>> 4;
                int a = u8(ql + l), b = u8(ql + l + 32), hb = u8(qh + l);
                int q1 = ((a & 0x0F) | ((hb & 3) << 4)) - 32;
                int q2 = ((b & 0x0F) | (((hb >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((hb >>> 4) & 3) << 4)) - 32;
                int q4 = ((b >>> 4) | (((hb >>> 6) & 3) << 4)) - 32;
                out[o + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                out[o + l + 32] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                out[o + l + 64] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                out[o + l + 96] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ6_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        Kernels.q6_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scales = new KQuantScales.Lazy(() -> KQuantScales.q6(data, size / 256));

    /** x for {@link Kernels#dotQ6_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, true)) return false;
        scales.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return Kernels.dotQ6_KPrepared(data, scales.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
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
         * Q6_K: one iteration per eighth (h, g, p) of block b: half h (128 elements), lanes l = 16g .. 16g+15, and the
         * 16 ql bytes at 32p (low nibbles: group p, high nibbles: group p + 2; qh bits 2p..2p+1 and 2p+4..2p+5).
         * Group i's lanes share scales[8h + g + 2i]. A larger step per iteration exceeded C2's inlining node budget.
         */
        static float dotQ6_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0, eighths = 8 * nBlocks; k < eighths; k++) {
                long base = (first + (k >>> 3)) * Q6_KTensor.BLOCK_BYTES;
                int h = (k >>> 2) & 1, g = (k >>> 1) & 1, p = k & 1;
                float d = VectorKernels.half(seg, base + 208);
                long sc = seg.get(SegmentTensor.LONG_LE, base + 192 + 8 * h) >>> (8 * (g + 2 * p)); // scales[8h+g+2p] in bits 0-7, [.. +4] in 32-39
                ByteVector v = bytes16(seg, base + 64 * h + 32 * p + 16 * g);
                ByteVector hb = srl(bytes16(seg, base + 128 + 32 * h + 16 * g), 2 * p);
                // bits 0-1 of hb to bits 4-5 (the int-lane shift's spill into the next byte is masked off), bits 4-5 stay
                ByteVector qa = v.and((byte) 0x0F).or(sll4(hb).and((byte) 0x30)).sub((byte) 32);
                ByteVector qb = srl(v, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32);
                int yo = xo + 256 * (k >>> 3) + 128 * h + 16 * g + 32 * p;
                acc = scaled(fma16(qa, x, yo, FloatVector.zero(F)), d * (byte) sc, acc);
                acc = scaled(fma16(qb, x, yo + 64, FloatVector.zero(F)), d * (byte) (sc >>> 32), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /**
         * Q6_K rows against a prepared x: the ql bytes of groups 0 and 2 of each 32-element span ({@code which} 0) and
         * those of groups 1 and 3 ({@code which} 1; the row is in L1 by then) in two loops, each small enough for C2's
         * inlining budget, then the {@code - 32} of every weight ({@link VectorKernels#minsPrepared}).
         */
        static float dotQ6_KPrepared(MemorySegment seg, MemorySegment sf, long first, int nBlocks, MemorySegment xs, long extraAt) {
            return q6KHalf(seg, sf, first, nBlocks, xs, 0) + q6KHalf(seg, sf, first, nBlocks, xs, 1) + minsPrepared(sf, first, nBlocks, xs, extraAt);
        }

        /**
         * Per quarter (h, g) of a block: the 16 ql bytes at 64h + 32 which + 16g and the qh bytes at 32h + 16g widened to
         * int lanes once; the low nibbles with qh bits 2 which .. +1 are the 6-bit q (0..63) of group 8h + g + 2 which, the
         * high nibbles with qh bits 2 which + 4 .. +5 those of group 8h + g + 2 which + 4. Each group's 16 products are
         * summed, then scaled once.
         */
        private static float q6KHalf(MemorySegment seg, MemorySegment sf, long first, int nBlocks, MemorySegment xs, int which) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long xg = 128L * which;
            for (int k = 0, quarters = 4 * nBlocks; k < quarters; k++) {
                int h = (k >>> 1) & 1, g = k & 1;
                long blk = first + (k >>> 2), base = blk * Q6_KTensor.BLOCK_BYTES;
                ByteVector q = bytes16(seg, base + 64 * h + 32 * which + 16 * g);
                ByteVector qh = bytes16(seg, base + 128 + 32 * h + 16 * g);
                long xq = xg + 1024L * (k >>> 2) + 4L * (128 * h + 16 * g);
                FloatVector lo = FloatVector.zero(F), hi = lo;
                for (int p = 0; p < PARTS; p++) {
                    IntVector iq = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector ih = ((IntVector) qh.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 2 * which);
                    long xp = xq + 4L * p * FLOAT_LANES;
                    lo = ((FloatVector) iq.and(0x0F).or(ih.lanewise(VectorOperators.LSHL, 4).and(0x30)).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp), lo);
                    hi = ((FloatVector) iq.lanewise(VectorOperators.LSHR, 4).or(ih.and(0x30)).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp + 256), hi);
                }
                long j = 16 * blk + 8 * h + g + 2 * which;
                a0 = lo.fma(scale(sf, j), a0);
                a1 = hi.fma(scale(sf, j + 4), a1);
            }
            return a0.add(a1).reduceLanes(VectorOperators.ADD);
        }

        /**
         * Q6_K: one iteration per (half h, lane group g, ql half p) as in {@link #dotQ6_K}: 16 ql bytes give
         * elements 32p + 16g + l (low nibbles, qh bits 2p..2p+1) and 64 + 32p + 16g + l (high nibbles, bits 2p+4..2p+5)
         * of half h, with scales[8h + g + 2p] and scales[8h + g + 2p + 4].
         */
        static void q6_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int k = 0, eighths = 8 * nBlocks; k < eighths; k++) {
                long base = (first + (k >>> 3)) * Q6_KTensor.BLOCK_BYTES;
                int h = (k >>> 2) & 1, g = (k >>> 1) & 1, p = k & 1;
                float d = float16At(seg, base + 208);
                long sc = seg.get(SegmentTensor.LONG_LE, base + 192 + 8 * h) >>> (8 * (g + 2 * p));
                ByteVector v = bytes16(seg, base + 64 * h + 32 * p + 16 * g);
                ByteVector hb = srl(bytes16(seg, base + 128 + 32 * h + 16 * g), 2 * p);
                ByteVector qa = v.and((byte) 0x0F).or(sll(hb, 4).and((byte) 0x30)).sub((byte) 32);
                ByteVector qb = srl(v, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32);
                int o = oo + 256 * (k >>> 3) + 128 * h + 16 * g + 32 * p;
                scaleStore(qa, d * (byte) sc, 0f, out, o);
                scaleStore(qb, d * (byte) (sc >>> 32), 0f, out, o + 64);
            }
        }
    }
}
