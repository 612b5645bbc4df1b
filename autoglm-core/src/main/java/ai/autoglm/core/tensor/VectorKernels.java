package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API dot products over GGML blocks in place (the shape of llama3.java's Q4_0/Q8_0/F16 dots): quant
 * bytes are loaded 16 at a time as a 128-bit ByteVector, unpacked with lane-wise byte ops (nibbles, high
 * bits), widened to floats in {@code 16 / FLOAT_LANES} parts and multiplied with x; per-block scales are
 * applied once per sub-block to the partial sums, mins through a separate sum of x. Every kernel sees whole
 * blocks only ({@link SegmentTensor#dotVector} handles partial ones) and agrees with the scalar
 * {@code getFloat} loop up to float summation order. Only loaded when {@link VectorSupport#ENABLED}.
 */
final class VectorKernels {
    static final VectorSpecies<Float> F = pickSpecies();
    static final int FLOAT_LANES = F.length();
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(FLOAT_LANES * 16));
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final int PARTS = 16 / FLOAT_LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorKernels() {
    }

    /** The preferred float species, at most 512 bits (the 16-byte unpacking needs at most 16 lanes). */
    private static VectorSpecies<Float> pickSpecies() {
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        return preferred.length() > 16 ? FloatVector.SPECIES_512 : preferred;
    }

    private static ByteVector bytes16(MemorySegment seg, long at) {
        return ByteVector.fromMemorySegment(B16, seg, at, LE);
    }

    /**
     * Each byte shifted right by {@code k}, exact in the bits the caller keeps: x86 has no byte shift, so a
     * lane-wise byte LSHR costs a widening and narrowing, while one 32-bit shift costs one instruction; the
     * bits it pulls in from the next byte land in the top {@code k} bits of each byte, which every caller
     * masks off.
     */
    private static ByteVector srl(ByteVector v, int k) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, k).reinterpretAsBytes();
    }

    /** Each byte (all below 16) shifted left by 4, with the same 32-bit shift as {@link #srl}. */
    private static ByteVector sll4(ByteVector v) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes();
    }

    /** acc + sum over 16 lanes of q[i] * x[xo + i], q holding small integers in byte lanes. */
    private static FloatVector fma16(ByteVector q, float[] x, int xo, FloatVector acc) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            acc = qf.fma(FloatVector.fromArray(F, x, xo + p * FLOAT_LANES), acc);
        }
        return acc;
    }

    /** acc + x[xo .. xo + n), n a multiple of 16. */
    private static FloatVector sumX(float[] x, int xo, int n, FloatVector acc) {
        for (int i = 0; i < n; i += FLOAT_LANES) acc = acc.add(FloatVector.fromArray(F, x, xo + i));
        return acc;
    }

    private static FloatVector scaled(FloatVector v, float s, FloatVector acc) {
        return v.fma(FloatVector.broadcast(F, s), acc);
    }

    private static float half(MemorySegment seg, long at) {
        return Float.float16ToFloat(seg.get(SegmentTensor.SHORT_LE, at));
    }

    static float dotF32(MemorySegment seg, long first, int n, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector w = FloatVector.fromMemorySegment(F, seg, (first + i) * 4, LE);
            acc = w.fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += seg.get(SegmentTensor.FLOAT_LE, (first + i) * 4) * x[xo + i];
        return sum;
    }

    /**
     * binary16 to binary32 without a lookup table: shifting exponent+mantissa left by 13 gives a float whose
     * value is the half's times 2^-112 (subnormals included), so one multiply by 2^112 rescales it; Inf/NaN
     * (exponent 31) instead get the all-ones float exponent; the sign bit is OR-ed back last.
     */
    static float dotF16(MemorySegment seg, long first, int n, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector w = halfToFloat(ShortVector.fromMemorySegment(S, seg, (first + i) * 2, LE));
            acc = w.fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += half(seg, (first + i) * 2) * x[xo + i];
        return sum;
    }

    static float dotBF16(MemorySegment seg, long first, int n, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            ShortVector h = ShortVector.fromMemorySegment(S, seg, (first + i) * 2, LE);
            IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
            FloatVector w = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += Float.intBitsToFloat(seg.get(SegmentTensor.SHORT_LE, (first + i) * 2) << 16) * x[xo + i];
        return sum;
    }

    static float dotQ8_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++, xo += 32) {
            long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
            FloatVector v = fma16(bytes16(seg, base + 2), x, xo, FloatVector.zero(F));
            v = fma16(bytes16(seg, base + 18), x, xo + 16, v);
            acc = scaled(v, half(seg, base), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++, xo += 32) {
            long base = (first + b) * Q4_0Tensor.BLOCK_BYTES;
            ByteVector q = bytes16(seg, base + 2);
            ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = srl(q, 4).and((byte) 0x0F).sub((byte) 8);
            FloatVector v = fma16(hi, x, xo + 16, fma16(lo, x, xo, FloatVector.zero(F)));
            acc = scaled(v, half(seg, base), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_1(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++, xo += 32) {
            long base = (first + b) * Q4_1Tensor.BLOCK_BYTES;
            ByteVector q = bytes16(seg, base + 4);
            ByteVector lo = q.and((byte) 0x0F);
            ByteVector hi = srl(q, 4).and((byte) 0x0F);
            FloatVector v = fma16(hi, x, xo + 16, fma16(lo, x, xo, FloatVector.zero(F)));
            acc = scaled(v, half(seg, base), acc);
            acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), half(seg, base + 2), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
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
            acc = scaled(v, half(seg, base), acc);
            if (withMin) acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), half(seg, base + 2), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            long base = (first + b) * Q4_KTensor.BLOCK_BYTES;
            float d = half(seg, base), dmin = half(seg, base + 2);
            for (int c = 0; c < 4; c++, xo += 64) {
                int sm1 = Q4_KTensor.scaleMin(seg, base + 4, 2 * c), sm2 = Q4_KTensor.scaleMin(seg, base + 4, 2 * c + 1);
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
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ5_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            long base = (first + b) * Q5_KTensor.BLOCK_BYTES;
            float d = half(seg, base), dmin = half(seg, base + 2);
            ByteVector h0 = bytes16(seg, base + 16), h1 = bytes16(seg, base + 32);
            for (int c = 0; c < 4; c++, xo += 64) {
                int sm1 = Q4_KTensor.scaleMin(seg, base + 4, 2 * c), sm2 = Q4_KTensor.scaleMin(seg, base + 4, 2 * c + 1);
                long qs = base + 48 + 32 * c;
                ByteVector q0 = bytes16(seg, qs), q1 = bytes16(seg, qs + 16);
                ByteVector lo0 = q0.and((byte) 0x0F).add(fifthBit(h0, 2 * c));
                ByteVector lo1 = q1.and((byte) 0x0F).add(fifthBit(h1, 2 * c));
                ByteVector hi0 = srl(q0, 4).and((byte) 0x0F).add(fifthBit(h0, 2 * c + 1));
                ByteVector hi1 = srl(q1, 4).and((byte) 0x0F).add(fifthBit(h1, 2 * c + 1));
                FloatVector v1 = fma16(lo1, x, xo + 16, fma16(lo0, x, xo, FloatVector.zero(F)));
                FloatVector v2 = fma16(hi1, x, xo + 48, fma16(hi0, x, xo + 32, FloatVector.zero(F)));
                acc = scaled(v1, d * (sm1 & 0xFF), acc);
                acc = scaled(v2, d * (sm2 & 0xFF), acc);
                acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), -(dmin * (sm1 >>> 8)), acc);
                acc = scaled(sumX(x, xo + 32, 32, FloatVector.zero(F)), -(dmin * (sm2 >>> 8)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** 16 where bit {@code bit} of the qh byte is set, else 0. */
    private static ByteVector fifthBit(ByteVector qh, int bit) {
        return sll4(srl(qh, bit).and((byte) 1));
    }

    static float dotQ6_K(MemorySegment seg, long first, int nBlocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            long base = (first + b) * Q6_KTensor.BLOCK_BYTES;
            float d = half(seg, base + 208);
            for (int h = 0; h < 2; h++) {
                long ql = base + 64 * h, qh = base + 128 + 32 * h, sc = base + 192 + 8 * h;
                int y = xo + 128 * h;
                for (int g = 0; g < 2; g++) { // elements l = 16g .. 16g+15 of each 32-group share scale index g
                    ByteVector a = bytes16(seg, ql + 16 * g), c = bytes16(seg, ql + 32 + 16 * g);
                    ByteVector hb = bytes16(seg, qh + 16 * g);
                    ByteVector q1 = a.and((byte) 0x0F).or(sll4(hb.and((byte) 3))).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0x0F).or(sll4(srl(hb, 2).and((byte) 3))).sub((byte) 32);
                    ByteVector q3 = srl(a, 4).and((byte) 0x0F).or(sll4(srl(hb, 4).and((byte) 3))).sub((byte) 32);
                    ByteVector q4 = srl(c, 4).and((byte) 0x0F).or(sll4(srl(hb, 6).and((byte) 3))).sub((byte) 32);
                    int yo = y + 16 * g;
                    acc = scaled(fma16(q1, x, yo, FloatVector.zero(F)), d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + g), acc);
                    acc = scaled(fma16(q2, x, yo + 32, FloatVector.zero(F)), d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + g + 2), acc);
                    acc = scaled(fma16(q3, x, yo + 64, FloatVector.zero(F)), d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + g + 4), acc);
                    acc = scaled(fma16(q4, x, yo + 96, FloatVector.zero(F)), d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + g + 6), acc);
                }
            }
            xo += 256;
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- register-blocked: one row, four tokens
    // Each weight block is decoded (and scaled) once into float vectors, then multiplied into four accumulators,
    // one per token: the decode work, most of the cost of a quantized dot, is shared by four tokens (the idea of
    // ggml's mul_mat tiling and llamafile's tinyBLAS, here in registers only).

    /** The four accumulators' sums to {@code out[oo + t*os]}. */
    private static void store4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] out, int oo, int os) {
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + os] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2 * os] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3 * os] = a3.reduceLanes(VectorOperators.ADD);
    }

    static void dot4Q4_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo, int xs, float[] out, int oo, int os) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < nBlocks; b++, xo += 32) {
            long base = (first + b) * Q4_0Tensor.BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, half(seg, base));
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

    static void dot4Q8_0(MemorySegment seg, long first, int nBlocks, float[] x, int xo, int xs, float[] out, int oo, int os) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < nBlocks; b++, xo += 32) {
            long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, half(seg, base));
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

    /** Weights {@code [first + i, first + i + FLOAT_LANES)} of an F16, BF16 or F32 row as floats. */
    private static FloatVector plain(MemorySegment seg, GgmlType type, long at) {
        return switch (type) {
            case F32 -> FloatVector.fromMemorySegment(F, seg, at * 4, LE);
            case BF16 -> ((IntVector) ShortVector.fromMemorySegment(S, seg, at * 2, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            default -> halfToFloat(ShortVector.fromMemorySegment(S, seg, at * 2, LE));
        };
    }

    /** binary16 lanes to binary32 (the conversion documented at {@link #dotF16}). */
    private static FloatVector halfToFloat(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector em = bits.and(0x7fff);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector magnitude = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                .blend(shifted.or(0x7f800000), em.compare(VectorOperators.GE, 0x7c00));
        return magnitude.or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** F32, F16 and BF16 rows against four tokens; the tail past a multiple of FLOAT_LANES is scalar. */
    static void dot4Plain(SegmentTensor w, GgmlType type, long first, int n, float[] x, int xo, int xs, float[] out, int oo, int os) {
        MemorySegment seg = w.data;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector v = plain(seg, type, first + i);
            int o = xo + i;
            a0 = v.fma(FloatVector.fromArray(F, x, o), a0);
            a1 = v.fma(FloatVector.fromArray(F, x, o + xs), a1);
            a2 = v.fma(FloatVector.fromArray(F, x, o + 2 * xs), a2);
            a3 = v.fma(FloatVector.fromArray(F, x, o + 3 * xs), a3);
        }
        store4(a0, a1, a2, a3, out, oo, os);
        for (; i < n; i++) {
            float v = w.getFloat(first + i);
            for (int t = 0; t < 4; t++) out[oo + t * os] += v * x[xo + t * xs + i];
        }
    }
}
