package ai.autoglm.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The block scales of Q4_K, Q5_K and Q6_K, repacked once into the form the decode kernels read directly: 16 floats
 * per 256-element block, already multiplied out, so a sub-block's scale is one broadcast load and a block's mins one
 * 16-float multiply-add.
 * <ul>
 *   <li>Q4_K/Q5_K: {@code [d sc_0 .. d sc_7, dmin m_0 .. dmin m_7]}, the 6-bit scales and mins unpacked from their
 *       12 bytes (get_scale_min_k4, ggml-quants.c) and multiplied by the block's halves;</li>
 *   <li>Q6_K: {@code [d sc_0 .. d sc_15]}.</li>
 * </ul>
 * Unpacking the 12 bytes per sub-block inside the kernel was the scalar work that kept the Q4_K dot at a third of Q4_0's
 * speed, and forming the scales per block as a vector and broadcasting lanes of it (16 repacked bytes, vpermps) still
 * halved it (see {@link VectorKernels}). The price is memory: 64 bytes per block, 44% more than a Q4_K block's 144
 * (36% of Q5_K's 176, 30% of Q6_K's 210), off-heap, built on a tensor's first decode (a tensor only ever used by the
 * prefill GEMM, or only read, never pays it). The products are the float products the scalar decoders form
 * ({@code d * sc}), so the kernels' values agree with {@code getFloat} up to summation order.
 */
final class KQuantScales {
    private KQuantScales() {
    }

    static final int FLOATS_PER_BLOCK = 16;

    /**
     * A tensor's table, built by the first {@link #get} (the first prepared decode) and kept: once per tensor, under
     * the tensor's concurrent decodes, by double-checked locking on a volatile field.
     */
    static final class Lazy {
        private final java.util.function.Supplier<MemorySegment> build;
        private volatile MemorySegment table;

        Lazy(java.util.function.Supplier<MemorySegment> build) {
            this.build = build;
        }

        MemorySegment get() {
            MemorySegment t = table;
            if (t == null) {
                synchronized (this) {
                    t = table;
                    if (t == null) table = t = build.get();
                }
            }
            return t;
        }
    }

    /** The Q4_K/Q5_K table of {@code data} (blocks of {@code blockBytes}: halves d, dmin at 0, scales at 4). */
    static MemorySegment q4or5(MemorySegment data, long blocks, int blockBytes) {
        MemorySegment out = Arena.ofAuto().allocate(4L * FLOATS_PER_BLOCK * blocks, 64);
        for (long b = 0; b < blocks; b++) {
            long at = b * blockBytes;
            float d = Float.float16ToFloat(data.get(SegmentTensor.SHORT_LE, at));
            float dmin = Float.float16ToFloat(data.get(SegmentTensor.SHORT_LE, at + 2));
            long lo = data.get(SegmentTensor.LONG_LE, at + 4);
            int hi = data.get(SegmentTensor.INT_LE, at + 12);
            for (int j = 0; j < 8; j++) {
                int sm = Q4_KTensor.scaleMin(lo, hi, j);
                out.setAtIndex(ValueLayout.JAVA_FLOAT, FLOATS_PER_BLOCK * b + j, d * (sm & 0xFF));
                out.setAtIndex(ValueLayout.JAVA_FLOAT, FLOATS_PER_BLOCK * b + 8 + j, dmin * (sm >>> 8));
            }
        }
        return out;
    }

    /** The Q6_K table of {@code data} (int8 scales at byte 192 of each block, half d at 208). */
    static MemorySegment q6(MemorySegment data, long blocks) {
        MemorySegment out = Arena.ofAuto().allocate(4L * FLOATS_PER_BLOCK * blocks, 64);
        for (long b = 0; b < blocks; b++) {
            long at = b * Q6_KTensor.BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(SegmentTensor.SHORT_LE, at + 208));
            for (int i = 0; i < 16; i++) {
                out.setAtIndex(ValueLayout.JAVA_FLOAT, FLOATS_PER_BLOCK * b + i, d * data.get(ValueLayout.JAVA_BYTE, at + 192 + i));
            }
        }
        return out;
    }
}
