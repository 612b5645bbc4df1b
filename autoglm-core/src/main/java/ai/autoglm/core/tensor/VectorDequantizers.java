package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API dequantization of whole blocks of the types whose {@link SegmentTensor#vectorDequantize} had only the
 * scalar block decoder (Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): the weight panels of {@link SmallBatchGemm} (decode steps
 * over a few slots) and {@link PanelGemm} (prefill) are filled through these, and with 2 tokens the scalar decoders
 * cost more than the k single-token dots they replace. Each performs the same float operations as the type's
 * scalar {@code dequantizeBlock} (a multiply then an add or subtract, never a fused multiply-add), so the results
 * are bit-identical (TensorTypesTest compares copyTo with getFloat exactly). Layouts and formulas: ggml-quants.c
 * dequantize_row_q5_0/q5_1/q4_K/q5_K/q6_K; loops keep one small step per iteration for C2's inlining budget (see
 * the K-quant notes in {@link VectorKernels}).
 */
final class VectorDequantizers {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = VectorKernels.FLOAT_LANES;
    private static final int PARTS = 16 / L;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorDequantizers() {
    }

    private static ByteVector bytes16(MemorySegment seg, long at) {
        return ByteVector.fromMemorySegment(B16, seg, at, LE);
    }

    /** Each byte shifted right by k (a 32-bit shift; the bits pulled in from the next byte are masked off by callers). */
    private static ByteVector srl(ByteVector v, int k) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, k).reinterpretAsBytes();
    }

    private static ByteVector sll(ByteVector v, int k) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, k).reinterpretAsBytes();
    }

    private static float half(MemorySegment seg, long at) {
        return Float.float16ToFloat(seg.get(SegmentTensor.SHORT_LE, at));
    }

    /** 16 signed byte lanes times s, then minus m: {@code out[oo ..] = q * s - m}. */
    private static void scaleStore(ByteVector q, float s, float m, float[] out, int oo) {
        for (int p = 0; p < PARTS; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(s).sub(m).intoArray(out, oo + p * L);
        }
    }

    /** Q5_0 ({@code withMin} false: (q - 16) * d) and Q5_1 (true: q * d + m); the fifth bit of element j is bit j of qh. */
    static void q5(MemorySegment seg, long first, int nBlocks, boolean withMin, float[] out, int oo) {
        int bytes = withMin ? Q5_1Tensor.BLOCK_BYTES : Q5_0Tensor.BLOCK_BYTES, qhAt = withMin ? 4 : 2;
        for (int b = 0; b < nBlocks; b++, oo += 32) {
            long base = (first + b) * bytes;
            float d = half(seg, base), m = withMin ? half(seg, base + 2) : 0f;
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

    /** Q4_K: one iteration per 64-element chunk c (sub-block 2c from the low nibbles of 32 bytes, 2c + 1 from the high). */
    static void q4_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int k = 0, chunks = 4 * nBlocks; k < chunks; k++, oo += 64) {
            long base = (first + (k >>> 2)) * Q4_KTensor.BLOCK_BYTES;
            int c = k & 3;
            float d = half(seg, base), min = half(seg, base + 2);
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

    /** Q5_K: as Q4_K plus the fifth bit of element l of sub-block j, bit j of qh[l]; one iteration per sub-block. */
    static void q5_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int k = 0, subBlocks = 8 * nBlocks; k < subBlocks; k++, oo += 32) {
            long base = (first + (k >>> 3)) * Q5_KTensor.BLOCK_BYTES;
            int j = k & 7;
            int sm = Q4_KTensor.scaleMin(seg.get(SegmentTensor.LONG_LE, base + 4), seg.get(SegmentTensor.INT_LE, base + 12), j);
            float dj = half(seg, base) * (sm & 0xFF), mj = half(seg, base + 2) * (sm >>> 8);
            long qs = base + 48 + 32 * (j >>> 1);
            int nibble = 4 * (j & 1);
            ByteVector lo = srl(bytes16(seg, qs), nibble).and((byte) 0x0F).add(sll(srl(bytes16(seg, base + 16), j).and((byte) 1), 4));
            ByteVector hi = srl(bytes16(seg, qs + 16), nibble).and((byte) 0x0F).add(sll(srl(bytes16(seg, base + 32), j).and((byte) 1), 4));
            scaleStore(lo, dj, mj, out, oo);
            scaleStore(hi, dj, mj, out, oo + 16);
        }
    }

    /**
     * Q6_K: one iteration per (half h, lane group g, ql half p) as in {@link VectorKernels#dotQ6_K}: 16 ql bytes give
     * elements 32p + 16g + l (low nibbles, qh bits 2p..2p+1) and 64 + 32p + 16g + l (high nibbles, bits 2p+4..2p+5)
     * of half h, with scales[8h + g + 2p] and scales[8h + g + 2p + 4].
     */
    static void q6_K(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int k = 0, eighths = 8 * nBlocks; k < eighths; k++) {
            long base = (first + (k >>> 3)) * Q6_KTensor.BLOCK_BYTES;
            int h = (k >>> 2) & 1, g = (k >>> 1) & 1, p = k & 1;
            float d = half(seg, base + 208);
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
