package ai.autoglm.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * What the Vector API kernels of several GGML types share (the shape of llama3.java's Q4_0/Q8_0/F16 dots): the
 * species, the 16-byte loads and byte shifts, the widening multiply-adds, the half-to-float table, the F16/BF16/F32
 * loaders, the accumulator sums, the K-quant prepared-x mins, the vector dequantizers' store, the 4-token plain-float
 * dot and the attention helpers of {@link AttentionKernels}. Each type's own kernels (decode dot, prepared dot,
 * 4-token dot, dequantizer) live beside its block layout and scalar decode, in its tensor class's nested
 * {@code Kernels} (for example {@link Q4_0Tensor.Kernels}), llama3.java's one class per type. The notes below
 * record why the kernels have the shape they have. Quant bytes are loaded 16 at a time as a 128-bit ByteVector,
 * unpacked with lane-wise byte ops (nibbles, high bits), widened to floats in {@code 16 / FLOAT_LANES} parts and
 * multiplied with x; per-block scales are applied once per sub-block to the partial sums, mins through a separate
 * sum of x. Every kernel sees whole blocks only ({@link SegmentTensor#dotVector} handles partial ones) and agrees
 * with the scalar {@code getFloat} loop up to float summation order. Only loaded when {@link VectorSupport#ENABLED}.
 */
final class VectorKernels {
    static final VectorSpecies<Float> F = pickSpecies();
    static final int FLOAT_LANES = F.length();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(FLOAT_LANES * 16));
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final int PARTS = 16 / FLOAT_LANES;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorKernels() {
    }

    /** The preferred float species, at most 512 bits (the 16-byte unpacking needs at most 16 lanes). */
    private static VectorSpecies<Float> pickSpecies() {
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        return preferred.length() > 16 ? FloatVector.SPECIES_512 : preferred;
    }

    static ByteVector bytes16(MemorySegment seg, long at) {
        return ByteVector.fromMemorySegment(B16, seg, at, LE);
    }

    /**
     * Each byte shifted right by {@code k}, exact in the bits the caller keeps: x86 has no byte shift, so a
     * lane-wise byte LSHR costs a widening and narrowing, while one 32-bit shift costs one instruction; the
     * bits it pulls in from the next byte land in the top {@code k} bits of each byte, which every caller
     * masks off.
     */
    static ByteVector srl(ByteVector v, int k) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, k).reinterpretAsBytes();
    }

    /** Each byte (all below 16) shifted left by 4, with the same 32-bit shift as {@link #srl}. */
    static ByteVector sll4(ByteVector v) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes();
    }

    /** acc + sum over 16 lanes of q[i] * x[xo + i], q holding small integers in byte lanes. */
    static FloatVector fma16(ByteVector q, float[] x, int xo, FloatVector acc) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            acc = qf.fma(FloatVector.fromArray(F, x, xo + p * FLOAT_LANES), acc);
        }
        return acc;
    }

    /** acc + x[xo .. xo + n), n a multiple of 16. */
    static FloatVector sumX(float[] x, int xo, int n, FloatVector acc) {
        for (int i = 0; i < n; i += FLOAT_LANES) acc = acc.add(FloatVector.fromArray(F, x, xo + i));
        return acc;
    }

    static FloatVector scaled(FloatVector v, float s, FloatVector acc) {
        return v.fma(FloatVector.broadcast(F, s), acc);
    }

    /**
     * The half at byte {@code at} as a float, by table: a block scale's {@code Float.float16ToFloat} compiles to a
     * load, a move to a vector register, vcvtph2ps and a broadcast, and in the Q4_0 decode dot that cost as much
     * as the block's own arithmetic; a table lookup is a load that the broadcast reads from memory, and won back
     * most of it (numbers: bench/RESULTS.md, "Numbers behind the kernels' design"). 256 KB, of which a model's scales touch a few lines.
     */
    static float half(MemorySegment seg, long at) {
        return HALF_TO_FLOAT[seg.get(SegmentTensor.SHORT_LE, at) & 0xFFFF];
    }

    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) HALF_TO_FLOAT[h] = Float.float16ToFloat((short) h);
    }

    // The decode dots keep several independent accumulators. With one, every FMA waits for the previous one
    // (4 cycles of latency on Zen 4/5 and recent Intel cores), which capped F32/F16/BF16 at 16 multiply-adds
    // per 4 cycles and Q4_0 at one 32-weight block per 4 cycles (Q8_0: see Q8_0Tensor.Kernels.dotQ8_0; numbers: bench/RESULTS.md), whatever the width
    // of the machine: latency, not throughput or memory, was the limit (llama.cpp's ggml_vec_dot_f16 keeps
    // GGML_F16_ARR independent accumulators for the same reason). Each loop body loads one vector (or block) and
    // the accumulators rotate, so C2 compiles one copy of the body and renames the registers when it unrolls.
    // The register-blocked dot4 kernels below already had four chains, one per token.

    /** The four chains' sum, pairwise. */
    static float sum4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    // One loader per type rather than a switch over the type, and the chains rotated in a loop with one load site
    // rather than a body unrolled by hand: both first versions ran out of C2's inlining node budget
    // (NodeCountInliningCutoff, see the K-quant note below) and the F16 dot slowed by an order of magnitude
    // (boxed vectors; numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
    static FloatVector f32(MemorySegment seg, long at) {
        return FloatVector.fromMemorySegment(F, seg, at * 4, LE);
    }

    static FloatVector f16(MemorySegment seg, long at) {
        return halfToFloat(ShortVector.fromMemorySegment(S, seg, at * 2, LE));
    }

    static FloatVector bf16(MemorySegment seg, long at) {
        return ((IntVector) ShortVector.fromMemorySegment(S, seg, at * 2, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    // The K-quant kernels are shaped by C2's inlining budget: C2 stops inlining once a compilation holds about
    // 18000 IR nodes (NodeCountInliningCutoff, a develop flag that product JVMs cannot raise), counted before
    // the Vector API calls are reduced to machine vectors, and every MemorySegment access and vector op adds
    // dozens. Past the cutoff, helpers such as fma16 are called instead of inlined, so each vector crossing them
    // is boxed on the heap: written with a whole block per iteration and byte-wise scale reads these kernels ran
    // some 30-100 times slower than Q4_0's (-XX:+PrintInlining shows "failed to inline: NodeCountInliningCutoff";
    // numbers: bench/RESULTS.md, "Numbers behind the kernels' design"). So: one flat loop with a small body (a chunk, sub-block or eighth of a block,
    // its position computed as scalars), scales read with a few wide loads, and Q5_K's mins in a separate loop.

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

    static FloatVector prepared(MemorySegment xs, long at) {
        return FloatVector.fromMemorySegment(F, xs, at, LE);
    }

    /** The scale at float index {@code i} of a {@link KQuantScales} table, broadcast. */
    static FloatVector scale(MemorySegment sf, long i) {
        return FloatVector.broadcast(F, sf.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4 * i));
    }

    /**
     * {@code sum_b table_b . extra_b}: 16 table floats against the prepared 16 per block: the Q4_K/Q5_K mins
     * ({@code [d sc, dmin m] . [0, -S]}) and the Q6_K {@code - 32} ({@code d sc . (-32 S)}).
     */
    static float minsPrepared(MemorySegment sf, long first, int nBlocks, MemorySegment xs, long extraAt) {
        FloatVector am = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            for (int p = 0; p < PARTS; p++) {
                am = FloatVector.fromMemorySegment(F, sf, 64 * (first + b) + 4L * p * FLOAT_LANES, LE)
                        .fma(prepared(xs, extraAt + 64L * b + 4L * p * FLOAT_LANES), am);
            }
        }
        return am.reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- dequantization (the prefill GEMM's panels)

    /**
     * Q4_0 ({@code min} false: {@code (nibble - 8) * d}) and Q4_1 ({@code min} true: {@code nibble * d + m}) blocks, in
     * the same float operations as the scalar decoders so the results are bit-identical.
     */
    static void dequantizeNibbles(MemorySegment seg, long base, boolean min, float[] out, int oo) {
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

    /** Each byte shifted left by {@code k}, with the same 32-bit shift as {@link #srl} (callers mask the spill). */
    static ByteVector sll(ByteVector v, int k) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, k).reinterpretAsBytes();
    }

    /**
     * The half at byte {@code at} by {@code Float.float16ToFloat} (no table): the scales of the vector dequantizers
     * (the GEMM panels of Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), as in the scalar {@code dequantizeBlock}s.
     */
    static float float16At(MemorySegment seg, long at) {
        return Float.float16ToFloat(seg.get(SegmentTensor.SHORT_LE, at));
    }

    /**
     * 16 signed byte lanes times s, then minus m: {@code out[oo ..] = q * s - m}. The vector dequantizers (each type's
     * {@code Kernels}: Q5_0/Q5_1 {@code q5}, {@code q4_K}, {@code q5_K}, {@code q6_K}) perform the same float
     * operations as the type's scalar {@code dequantizeBlock} (a multiply then an add or subtract, never a fused
     * multiply-add), so the results are bit-identical (TensorTypesTest compares copyTo with getFloat exactly).
     * Layouts and formulas: ggml-quants.c dequantize_row_q5_0/q5_1/q4_K/q5_K/q6_K; loops keep one small step per
     * iteration for C2's inlining budget (the K-quant note above).
     */
    static void scaleStore(ByteVector q, float s, float m, float[] out, int oo) {
        for (int p = 0; p < PARTS; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(s).sub(m).intoArray(out, oo + p * FLOAT_LANES);
        }
    }

    // ---------------------------------------------------------------- register-blocked: one row, four tokens
    // Each weight block is decoded (and scaled) once into float vectors, then multiplied into four accumulators,
    // one per token: the decode work, most of the cost of a quantized dot, is shared by four tokens (the idea of
    // ggml's mul_mat tiling and llamafile's tinyBLAS, here in registers only). Since the panel GEMM
    // (PanelGemm) takes chunks of 8 tokens or more, these serve 2-7 tokens: small server batches of decode rows.

    /** The four accumulators' sums to {@code out[oo + t*os]}. */
    static void store4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] out, int oo, int os) {
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + os] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2 * os] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3 * os] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** Weights {@code [first + i, first + i + FLOAT_LANES)} of an F16, BF16 or F32 row as floats. */
    private static FloatVector plain(MemorySegment seg, GgmlType type, long at) {
        return switch (type) {
            case F32 -> f32(seg, at);
            case BF16 -> bf16(seg, at);
            default -> f16(seg, at);
        };
    }

    /** binary16 lanes to binary32 (the conversion documented at {@link F16Tensor.Kernels#dotF16}). */
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
