package ai.autoglm.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One input vector of a matrix-vector product, rearranged once for a decode kernel that reads it in another
 * form than plain floats (see {@link FloatTensor#prepare}): the rearranging costs O(n) and is shared by every
 * row of the matrix. Reused from product to product (grown on demand), so decoding allocates nothing per token.
 * Not thread-safe: one per thread that starts products; the rows' kernels only read it.
 *
 * <p>The floats live off-heap, 64-byte aligned: a heap float[] starts wherever the allocator put it, and when
 * that is not a multiple of 64 bytes every 512-bit load of it straddles two cache lines, which cost the Q4_0 decode
 * dot about a fifth of its speed (numbers: bench/RESULTS.md, "Numbers behind the kernels' design").
 */
public final class PreparedVector {
    private static final int ALIGN = 64;
    /** The kernel-specific rearrangement of x (for Q4_0: per 32-block, 16 "y" then 16 "z" floats), then one float per block. */
    MemorySegment values = MemorySegment.NULL;
    /** Elements of x; the per-block floats start at byte {@code 4 * n} of {@link #values}. */
    int n;
    private float[] staging = new float[0];
    private int floats;

    /** Room in {@link #values} for {@code floats} floats, for a vector of n elements. */
    private void ensure(int n, int floats) {
        if (values.byteSize() < (long) floats * Float.BYTES) values = Arena.ofAuto().allocate((long) floats * Float.BYTES, ALIGN);
        this.n = n;
        this.floats = floats;
    }

    /** Room for n rearranged floats and {@code blocks} per-block floats; returns the heap staging array to fill. */
    float[] stage(int n, int blocks) {
        ensure(n, n + blocks);
        if (staging.length < floats) staging = new float[floats];
        return staging;
    }

    /** x itself, aligned (for the kernels that read it as plain floats). */
    void copy(float[] x, int xOff, int n) {
        ensure(n, n);
        MemorySegment.copy(x, xOff, values, ValueLayout.JAVA_FLOAT, 0, n);
    }

    /** Copies the staged floats to the aligned segment. */
    void publish() {
        MemorySegment.copy(staging, 0, values, ValueLayout.JAVA_FLOAT, 0, floats);
    }
}
