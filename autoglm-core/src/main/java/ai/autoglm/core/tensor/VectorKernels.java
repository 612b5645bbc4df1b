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
 * {@code getFloat} loop up to float summation order. Also the vector dequantizers of the prefill GEMM's panels
 * ({@link PanelGemm}) and the prepared-vector decode dots ({@link PreparedVector}). Only loaded when
 * {@link VectorSupport#ENABLED}.
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

    /**
     * The half at byte {@code at} as a float, by table: a block scale's {@code Float.float16ToFloat} compiles to a
     * load, a move to a vector register, vcvtph2ps and a broadcast, and in the Q4_0 decode dot that cost as much
     * as the block's own arithmetic; a table lookup is a load that the broadcast reads from memory, and won back
     * most of it (numbers: bench/RESULTS.md, "Numbers behind the kernels' design"). 256 KB, of which a model's scales touch a few lines.
     */
    private static float half(MemorySegment seg, long at) {
        return HALF_TO_FLOAT[seg.get(SegmentTensor.SHORT_LE, at) & 0xFFFF];
    }

    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) HALF_TO_FLOAT[h] = Float.float16ToFloat((short) h);
    }

    // The decode dots keep several independent accumulators. With one, every FMA waits for the previous one
    // (4 cycles of latency on Zen 4/5 and recent Intel cores), which capped F32/F16/BF16 at 16 multiply-adds
    // per 4 cycles and Q4_0 at one 32-weight block per 4 cycles (Q8_0: see dotQ8_0; numbers: bench/RESULTS.md), whatever the width
    // of the machine: latency, not throughput or memory, was the limit (llama.cpp's ggml_vec_dot_f16 keeps
    // GGML_F16_ARR independent accumulators for the same reason). Each loop body loads one vector (or block) and
    // the accumulators rotate, so C2 compiles one copy of the body and renames the registers when it unrolls.
    // The register-blocked dot4 kernels below already had four chains, one per token.

    /** The four chains' sum, pairwise. */
    private static float sum4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    static float dotF32(MemorySegment seg, long first, int n, float[] x, int xo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector a = f32(seg, first + i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
        }
        float sum = sum4(a0, a1, a2, a3);
        for (; i < n; i++) sum += seg.get(SegmentTensor.FLOAT_LE, (first + i) * 4) * x[xo + i];
        return sum;
    }

    /**
     * binary16 to binary32 without a lookup table: shifting exponent+mantissa left by 13 gives a float whose
     * value is the half's times 2^-112 (subnormals included), so one multiply by 2^112 rescales it; Inf/NaN
     * (exponent 31) instead get the all-ones float exponent; the sign bit is OR-ed back last. (JDK 25's
     * VectorOperators has no half-to-float conversion, so there is no way to reach vcvtph2ps.)
     */
    static float dotF16(MemorySegment seg, long first, int n, float[] x, int xo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector a = f16(seg, first + i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
        }
        float sum = sum4(a0, a1, a2, a3);
        for (; i < n; i++) sum += half(seg, (first + i) * 2) * x[xo + i];
        return sum;
    }

    /**
     * F16 rows of finite halves only (see {@link F16Tensor#prepare}) against x from an aligned {@link PreparedVector}
     * segment: without Inf/NaN the conversion is four operations (see {@link #finiteHalfToFloat}) instead of eight.
     */
    static float dotFiniteF16(MemorySegment seg, long first, int n, MemorySegment xs) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector w = finiteHalfToFloat(ShortVector.fromMemorySegment(S, seg, (first + i) * 2, LE));
            FloatVector a = w.fma(FloatVector.fromMemorySegment(F, xs, 4L * i, LE), a0);
            a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
        }
        float sum = sum4(a0, a1, a2, a3);
        for (; i < n; i++) sum += half(seg, (first + i) * 2) * xs.get(SegmentTensor.FLOAT_LE, 4L * i);
        return sum;
    }

    /**
     * binary16 to binary32 for finite halves: the sign-extended half shifted left by 13 has the sign in bit 31
     * (and copies of it in bits 28-30, cleared by the mask) and exponent+mantissa in bits 13-27, a float whose
     * value is the half's times 2^-112 (subnormals included); one multiply by 2^112 rescales it, sign and all.
     * An Inf/NaN half would come out as a finite float of magnitude 2^16 or more.
     */
    private static FloatVector finiteHalfToFloat(ShortVector h) {
        return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                .reinterpretAsFloats().mul(0x1p112f);
    }

    /** Whether no half in {@code [0, n)} has the exponent 31 (Inf or NaN). */
    static boolean allFiniteF16(MemorySegment seg, long n) {
        VectorSpecies<Short> s = ShortVector.SPECIES_PREFERRED;
        long upper = n - n % s.length(), i = 0;
        for (; i < upper; i += s.length()) {
            if (ShortVector.fromMemorySegment(s, seg, i * 2, LE).and((short) 0x7C00).eq((short) 0x7C00).anyTrue()) return false;
        }
        for (; i < n; i++) if ((seg.get(SegmentTensor.SHORT_LE, i * 2) & 0x7C00) == 0x7C00) return false;
        return true;
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

    // One loader per type rather than a switch over the type, and the chains rotated in a loop with one load site
    // rather than a body unrolled by hand: both first versions ran out of C2's inlining node budget
    // (NodeCountInliningCutoff, see the K-quant note below) and the F16 dot slowed by an order of magnitude
    // (boxed vectors; numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
    private static FloatVector f32(MemorySegment seg, long at) {
        return FloatVector.fromMemorySegment(F, seg, at * 4, LE);
    }

    private static FloatVector f16(MemorySegment seg, long at) {
        return halfToFloat(ShortVector.fromMemorySegment(S, seg, at * 2, LE));
    }

    private static FloatVector bf16(MemorySegment seg, long at) {
        return ((IntVector) ShortVector.fromMemorySegment(S, seg, at * 2, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
        return scaled(v, half(seg, base), acc);
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
            acc = scaled(v, half(seg, base), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Consecutive blocks into two alternating accumulators (see above). */
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
            FloatVector a = scaled(v, half(seg, base), a0);
            a0 = a1; a1 = a; // rotate: consecutive blocks go to different chains
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
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

    // The K-quant kernels are shaped by C2's inlining budget: C2 stops inlining once a compilation holds about
    // 18000 IR nodes (NodeCountInliningCutoff, a develop flag that product JVMs cannot raise), counted before
    // the Vector API calls are reduced to machine vectors, and every MemorySegment access and vector op adds
    // dozens. Past the cutoff, helpers such as fma16 are called instead of inlined, so each vector crossing them
    // is boxed on the heap: written with a whole block per iteration and byte-wise scale reads these kernels ran
    // some 30-100 times slower than Q4_0's (-XX:+PrintInlining shows "failed to inline: NodeCountInliningCutoff";
    // numbers: bench/RESULTS.md, "Numbers behind the kernels' design"). So: one flat loop with a small body (a chunk, sub-block or eighth of a block,
    // its position computed as scalars), scales read with a few wide loads, and Q5_K's mins in a separate loop.

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
     * Q5_K: as Q4_K plus the fifth bit of element l of sub-block j, bit j of qh[l]. One iteration per 32-element
     * sub-block j of block b (the low nibbles of chunk j/2 for even j, the high ones for odd j), and the mins in a
     * second loop: anything larger per iteration exceeded C2's inlining node budget, as described above.
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
            acc = scaled(v, half(seg, base) * (sm & 0xFF), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) - kQuantMins(seg, first, nBlocks, Q5_KTensor.BLOCK_BYTES, x, xo);
    }

    /** Sum over the sub-blocks j of Q4_K/Q5_K blocks of dmin * m_j * (sum of x over sub-block j). */
    private static float kQuantMins(MemorySegment seg, long first, int nBlocks, int blockBytes, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0, subBlocks = 8 * nBlocks; k < subBlocks; k++, xo += 32) {
            long base = (first + (k >>> 3)) * blockBytes;
            int sm = Q4_KTensor.scaleMin(seg.get(SegmentTensor.LONG_LE, base + 4), seg.get(SegmentTensor.INT_LE, base + 12), k & 7);
            acc = scaled(sumX(x, xo, 32, FloatVector.zero(F)), half(seg, base + 2) * (sm >>> 8), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** 16 where bit {@code bit} of the qh byte is set, else 0. */
    private static ByteVector fifthBit(ByteVector qh, int bit) {
        return sll4(srl(qh, bit).and((byte) 1));
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
            float d = half(seg, base + 208);
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

    /** {@code a[0 .. n) . x[xo .. xo + n)}, n a multiple of FLOAT_LANES (the block-decoded dots of {@link KQuantBlocks}). */
    static float dotFloats(float[] a, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int i = 0; i < n; i += FLOAT_LANES) {
            FloatVector v = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a0 = a1; a1 = v;
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- K-quant decode against a prepared x
    // x comes from a PreparedVector (KQuantPrepare: the floats, 64-byte aligned, then 16 floats per 256-element
    // block that carry the block's mins: Q4_K/Q5_K [0 x 8, -S_0 .. -S_7], S_j the sum of x over sub-block j;
    // Q6_K [-32 S_0 .. -32 S_15] over its 16-element groups). The scales come from KQuantScales: 16 floats per block,
    // already multiplied out (Q4_K/Q5_K [d sc_0 .. d sc_7, dmin m_0 .. dmin m_7], Q6_K [d sc_0 .. d sc_15]), so a
    // sub-block's scale is one broadcast load and a block's mins one multiply-add of 16 floats with the prepared 16.
    // Each sub-block's products are summed unscaled, then scaled once. The Q4_K nibble loop alone runs as fast as
    // Q4_0's; with the scales unpacked per block from 16 repacked bytes into a vector and broadcast by rearrange
    // (vpermps with a shuffle loaded from a table) it ran at half that, the rearranges a good part of the cost, hence
    // the float table. Each kernel is split into loops small enough for C2's inlining budget (see above): one loop
    // doing everything of Q5_K or Q6_K was cut off (NodeCountInliningCutoff) and all but stalled (numbers:
    // bench/RESULTS.md, "Numbers behind the kernels' design").

    private static FloatVector prepared(MemorySegment xs, long at) {
        return FloatVector.fromMemorySegment(F, xs, at, LE);
    }

    /** The scale at float index {@code i} of a {@link KQuantScales} table, broadcast. */
    private static FloatVector scale(MemorySegment sf, long i) {
        return FloatVector.broadcast(F, sf.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4 * i));
    }

    /**
     * Q4_K rows against a prepared x: per 64-element chunk c the 32 bytes widened to int lanes once, low nibbles
     * (sub-block 2c) and high nibbles (2c+1, a shift of the zero-extended bytes) converted and multiplied with x into
     * two sums, each scaled once; the mins in a loop of their own ({@link #minsPrepared}). {@code sf}: the
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

    /**
     * Q5_K: as {@link #dotQ4_KPrepared} with the fifth bit of element l of sub-block j, bit j of qh[l], OR-ed in as 16;
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

    /**
     * {@code sum_b table_b . extra_b}: 16 table floats against the prepared 16 per block: the Q4_K/Q5_K mins
     * ({@code [d sc, dmin m] . [0, -S]}) and the Q6_K {@code - 32} ({@code d sc . (-32 S)}).
     */
    private static float minsPrepared(MemorySegment sf, long first, int nBlocks, MemorySegment xs, long extraAt) {
        FloatVector am = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            for (int p = 0; p < PARTS; p++) {
                am = FloatVector.fromMemorySegment(F, sf, 64 * (first + b) + 4L * p * FLOAT_LANES, LE)
                        .fma(prepared(xs, extraAt + 64L * b + 4L * p * FLOAT_LANES), am);
            }
        }
        return am.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q6_K rows against a prepared x: the ql bytes of groups 0 and 2 of each 32-element span ({@code which} 0) and
     * those of groups 1 and 3 ({@code which} 1; the row is in L1 by then) in two loops, each small enough for C2's
     * inlining budget, then the {@code - 32} of every weight ({@link #minsPrepared}).
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

    // ---------------------------------------------------------------- dequantization (the prefill GEMM's panels)

    /** Halves {@code [first, first + n)} to floats in {@code out[oo ..]}. */
    static void copyF16(MemorySegment seg, long first, int n, float[] out, int oo) {
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) f16(seg, first + i).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] = half(seg, (first + i) * 2);
    }

    static void copyBF16(MemorySegment seg, long first, int n, float[] out, int oo) {
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) bf16(seg, first + i).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] = Float.intBitsToFloat(seg.get(SegmentTensor.SHORT_LE, (first + i) * 2) << 16);
    }

    static void dequantizeQ8_0(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int b = 0; b < nBlocks; b++, oo += 32) {
            long base = (first + b) * Q8_0Tensor.BLOCK_BYTES;
            float d = half(seg, base);
            for (int h = 0; h < 2; h++) {
                ByteVector q = bytes16(seg, base + 2 + 16 * h);
                for (int p = 0; p < PARTS; p++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(out, oo + 16 * h + p * FLOAT_LANES);
                }
            }
        }
    }

    /**
     * Q4_0 ({@code min} false: {@code (nibble - 8) * d}) and Q4_1 ({@code min} true: {@code nibble * d + m}) blocks, in
     * the same float operations as the scalar decoders so the results are bit-identical.
     */
    private static void dequantizeNibbles(MemorySegment seg, long base, boolean min, float[] out, int oo) {
        float d = half(seg, base), m = min ? half(seg, base + 2) : 0f;
        ByteVector q = bytes16(seg, base + (min ? 4 : 2));
        for (int p = 0; p < PARTS; p++) {
            IntVector qi = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
            IntVector lo = qi.and(0x0F), hi = qi.lanewise(VectorOperators.LSHR, 4);
            if (!min) {
                lo = lo.sub(8);
                hi = hi.sub(8);
            }
            FloatVector lf = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(d);
            FloatVector hf = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(d);
            if (min) {
                lf = lf.add(m);
                hf = hf.add(m);
            }
            lf.intoArray(out, oo + p * FLOAT_LANES);
            hf.intoArray(out, oo + 16 + p * FLOAT_LANES);
        }
    }

    static void dequantizeQ4_0(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int b = 0; b < nBlocks; b++, oo += 32) dequantizeNibbles(seg, (first + b) * Q4_0Tensor.BLOCK_BYTES, false, out, oo);
    }

    static void dequantizeQ4_1(MemorySegment seg, long first, int nBlocks, float[] out, int oo) {
        for (int b = 0; b < nBlocks; b++, oo += 32) dequantizeNibbles(seg, (first + b) * Q4_1Tensor.BLOCK_BYTES, true, out, oo);
    }

    // ---------------------------------------------------------------- register-blocked: one row, four tokens
    // Each weight block is decoded (and scaled) once into float vectors, then multiplied into four accumulators,
    // one per token: the decode work, most of the cost of a quantized dot, is shared by four tokens (the idea of
    // ggml's mul_mat tiling and llamafile's tinyBLAS, here in registers only). Since the panel GEMM
    // (PanelGemm) takes chunks of 8 tokens or more, these serve 2-7 tokens: small server batches of decode rows.

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
            case F32 -> f32(seg, at);
            case BF16 -> bf16(seg, at);
            default -> f16(seg, at);
        };
    }

    /** binary16 lanes to binary32 (the conversion documented at {@link #dotF16}). */
    private static FloatVector halfToFloat(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector em = bits.and(0x7fff);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        // Inf/NaN: the scaled value has the float exponent 143; OR-ing in all ones (a masked OR, one instruction
        // with AVX-512) gives 255 and keeps the mantissa, as the blend of the unscaled bits did.
        IntVector magnitude = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                .lanewise(VectorOperators.OR, 0x7f800000, em.compare(VectorOperators.GE, 0x7c00));
        // S2I sign-extends, so bit 31 already holds the half's sign: one AND instead of AND + shift.
        return magnitude.or(bits.and(0x80000000)).reinterpretAsFloats();
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

    /** {@code y[yo + i] += a * x[xo + i]} for {@code i < n}: the weighted sum of value rows in attention. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    /**
     * F32 rows in a native segment (the KV cache) dotted with {@code q}: self-contained (no helper takes or returns a
     * vector), so C2 keeps every temporary in registers whatever it inlined elsewhere; two accumulators.
     */
    static float dotF32Rows(MemorySegment seg, long byteOff, float[] q, int qo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int upper = F.loopBound(n), i = 0;
        for (; i + FLOAT_LANES < upper; i += 2 * FLOAT_LANES) {
            a0 = FloatVector.fromMemorySegment(F, seg, byteOff + 4L * i, LE).fma(FloatVector.fromArray(F, q, qo + i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, byteOff + 4L * (i + FLOAT_LANES), LE)
                    .fma(FloatVector.fromArray(F, q, qo + i + FLOAT_LANES), a1);
        }
        for (; i < upper; i += FLOAT_LANES) {
            a0 = FloatVector.fromMemorySegment(F, seg, byteOff + 4L * i, LE).fma(FloatVector.fromArray(F, q, qo + i), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += seg.get(SegmentTensor.FLOAT_LE, byteOff + 4L * i) * q[qo + i];
        return sum;
    }

    /** {@code y[yo + i] += a * row[i]} for an F32 row at {@code byteOff} of a native segment; self-contained as above. */
    static void axpyF32Row(float a, MemorySegment seg, long byteOff, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += FLOAT_LANES) {
            FloatVector.fromMemorySegment(F, seg, byteOff + 4L * i, LE).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * seg.get(SegmentTensor.FLOAT_LE, byteOff + 4L * i);
    }
}
