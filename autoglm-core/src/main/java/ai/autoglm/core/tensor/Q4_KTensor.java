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
import static ai.autoglm.core.tensor.VectorKernels.fma16;
import static ai.autoglm.core.tensor.VectorKernels.sumX;
import static ai.autoglm.core.tensor.VectorKernels.scaled;
import static ai.autoglm.core.tensor.VectorKernels.prepared;
import static ai.autoglm.core.tensor.VectorKernels.scale;
import static ai.autoglm.core.tensor.VectorKernels.minsPrepared;
import static ai.autoglm.core.tensor.VectorKernels.scaleStore;
import static ai.autoglm.core.tensor.VectorKernels.float16At;

/**
 * GGML_TYPE_Q4_K (ggml-common.h block_q4_K, 144 bytes per 256 elements):
 * {@code ggml_half d, dmin; uint8_t scales[12]; uint8_t qs[128]}. Eight sub-blocks of 32 elements, each with
 * a 6-bit scale and 6-bit min packed in {@code scales} (get_scale_min_k4). Each 64-element chunk c uses 32
 * bytes of qs: its first 32 elements are the low nibbles (sub-block 2c), the next 32 the high nibbles
 * (sub-block 2c+1). value = (d * sc) * q - (dmin * m) (ggml-quants.c dequantize_row_q4_K).
 */
public final class Q4_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 144;

    Q4_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /** get_scale_min_k4: 6-bit scale (low byte of the result) and min (next byte) of sub-block j. */
    static int scaleMin(MemorySegment data, long scalesAt, int j) {
        return scaleMin(data.get(LONG_LE, scalesAt), data.get(INT_LE, scalesAt + 8), j);
    }

    /**
     * get_scale_min_k4 over the 12 scale bytes loaded as {@code lo} (bytes 0-7) and {@code hi} (bytes 8-11):
     * two loads instead of up to four byte loads per sub-block. The vector kernels depend on this: every
     * MemorySegment access adds many C2 nodes before optimisation, and byte-wise scale reads pushed the K-quant
     * kernels past C2's inlining node budget, so their vector helpers were not inlined and boxed every vector.
     */
    static int scaleMin(long lo, int hi, int j) {
        int sc, m;
        if (j < 4) {
            sc = (int) (lo >>> (8 * j)) & 63;
            m = (int) (lo >>> (8 * j + 32)) & 63;
        } else {
            int b = (hi >>> (8 * (j - 4))) & 0xFF;
            sc = (b & 0x0F) | (((int) (lo >>> (8 * (j - 4) + 6)) & 3) << 4);
            m = (b >>> 4) | (((int) (lo >>> (8 * j + 6)) & 3) << 4);
        }
        return sc | (m << 8);
    }

    static int u8(MemorySegment data, long at) {
        return data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int c = e >>> 6, within = e & 63, l = within & 31;
        boolean high = within >= 32;
        int sm = scaleMin(data, base + 4, 2 * c + (high ? 1 : 0));
        float d = half(base) * (sm & 0xFF);
        float m = half(base + 2) * (sm >>> 8);
        int q = u8(base + 16 + 32 * c + l);
        return d * (high ? q >>> 4 : q & 0x0F) - m;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base), min = half(base + 2);
        int o = outOffset;
        for (int c = 0; c < 4; c++) {
            int sm1 = scaleMin(data, base + 4, 2 * c), sm2 = scaleMin(data, base + 4, 2 * c + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
            long qs = base + 16 + 32 * c;
            for (int l = 0; l < 32; l++) out[o + l] = d1 * (u8(qs + l) & 0x0F) - m1;
            for (int l = 0; l < 32; l++) out[o + 32 + l] = d2 * (u8(qs + l) >>> 4) - m2;
            o += 64;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotQ4_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        Kernels.q4_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scalesMins = new KQuantScales.Lazy(() -> KQuantScales.q4or5(data, size / 256, BLOCK_BYTES));

    /** x for {@link Kernels#dotQ4_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, false)) return false;
        scalesMins.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return Kernels.dotQ4_KPrepared(data, scalesMins.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
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

        /** Q4_K: one iteration per 64-element chunk c of block b (sub-blocks 2c from low nibbles, 2c+1 from high). */
        static float dotQ4_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0, chunks = 4 * nBlocks; k < chunks; k++, xo += 64) {
                long base = (first + (k >>> 2)) * Q4_KTensor.BLOCK_BYTES;
                int c = k & 3;
                int dd = seg.get(SegmentTensor.INT_LE, base); // d and dmin
                float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
                long scLo = seg.get(SegmentTensor.LONG_LE, base + 4);
                int scHi = seg.get(SegmentTensor.INT_LE, base + 12);
                int sm1 = Q4_KTensor.scaleMin(scLo, scHi, 2 * c), sm2 = Q4_KTensor.scaleMin(scLo, scHi, 2 * c + 1);
                long qs = base + 16 + 32 * c;
                ByteVector q0 = bytes16(seg, qs), q1 = bytes16(seg, qs + 16);
                FloatVector v1 = fma16(q1.and((byte) 0x0F), x, xo + 16, fma16(q0.and((byte) 0x0F), x, xo, FloatVector.zero(F)));
                FloatVector v2 = fma16(srl(q1, 4).and((byte) 0x0F), x, xo + 48,
                        fma16(srl(q0, 4).and((byte) 0x0F), x, xo + 32, FloatVector.zero(F)));
                acc = scaled(v1, d * (sm1 & 0xFF), acc);
                acc = scaled(v2, d * (sm2 & 0xFF), acc);
                acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), -(dmin * (sm1 >>> 8)), acc);
                acc = scaled(sumX(x, xo + 32, 32, FloatVector.zero(F)), -(dmin * (sm2 >>> 8)), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /**
         * Q4_K rows against a prepared x: per 64-element chunk c the 32 bytes widened to int lanes once, low nibbles
         * (sub-block 2c) and high nibbles (2c+1, a shift of the zero-extended bytes) converted and multiplied with x into
         * two sums, each scaled once; the mins in a loop of their own ({@link VectorKernels#minsPrepared}). {@code sf}: the
         * block scales ({@link KQuantScales}); {@code extraAt}: byte offset of the per-block floats in {@code xs}.
         */
        static float dotQ4_KPrepared(MemorySegment seg, MemorySegment sf, long first, int nBlocks, MemorySegment xs, long extraAt) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            long xc = 0;
            for (int k = 0, chunks = 4 * nBlocks; k < chunks; k++, xc += 256) {
                long blk = first + (k >>> 2), qs = blk * Q4_KTensor.BLOCK_BYTES + 16 + 32 * (k & 3);
                ByteVector q0 = bytes16(seg, qs), q1 = bytes16(seg, qs + 16);
                FloatVector lo = FloatVector.zero(F), hi = lo;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i0 = (IntVector) q0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector i1 = (IntVector) q1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    long xp = xc + 4L * p * FLOAT_LANES;
                    lo = ((FloatVector) i0.and(0x0F).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp), lo);
                    lo = ((FloatVector) i1.and(0x0F).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp + 64), lo);
                    hi = ((FloatVector) i0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp + 128), hi);
                    hi = ((FloatVector) i1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(prepared(xs, xp + 192), hi);
                }
                long j = 16 * blk + 2 * (k & 3);
                a0 = lo.fma(scale(sf, j), a0);
                a1 = hi.fma(scale(sf, j + 1), a1);
            }
            return a0.add(a1).reduceLanes(VectorOperators.ADD) + minsPrepared(sf, first, nBlocks, xs, extraAt);
        }

        /** Q4_K: one iteration per 64-element chunk c (sub-block 2c from the low nibbles of 32 bytes, 2c + 1 from the high). */
        static void q4_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
            for (int k = 0, chunks = 4 * nBlocks; k < chunks; k++, oo += 64) {
                long base = (first + (k >>> 2)) * Q4_KTensor.BLOCK_BYTES;
                int c = k & 3;
                float d = float16At(seg, base), min = float16At(seg, base + 2);
                long scLo = seg.get(SegmentTensor.LONG_LE, base + 4);
                int scHi = seg.get(SegmentTensor.INT_LE, base + 12);
                int sm1 = Q4_KTensor.scaleMin(scLo, scHi, 2 * c), sm2 = Q4_KTensor.scaleMin(scLo, scHi, 2 * c + 1);
                float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8), d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
                long qs = base + 16 + 32 * c;
                ByteVector q0 = bytes16(seg, qs), q1 = bytes16(seg, qs + 16);
                scaleStore(q0.and((byte) 0x0F), d1, m1, out, oo);
                scaleStore(q1.and((byte) 0x0F), d1, m1, out, oo + 16);
                scaleStore(srl(q0, 4).and((byte) 0x0F), d2, m2, out, oo + 32);
                scaleStore(srl(q1, 4).and((byte) 0x0F), d2, m2, out, oo + 48);
            }
        }
    }
}
