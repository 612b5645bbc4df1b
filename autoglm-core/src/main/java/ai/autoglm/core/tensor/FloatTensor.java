package ai.autoglm.core.tensor;

/**
 * A read-only, row-major view of weights in one GGML layout (the shape of llama3.java's FloatTensor):
 * each subclass knows its block layout, gives a scalar {@link #getFloat} that is the reference, and
 * overrides {@link #dot} with a Vector API kernel that works on the blocks in place. Weights stay in the
 * (usually memory-mapped) segment they were loaded from; nothing is copied onto the heap.
 */
public abstract class FloatTensor {

    /** Number of elements. */
    public abstract long size();

    /** The layout of the underlying data. */
    public abstract GgmlType type();

    /** Element {@code index}, dequantized. The scalar reference every kernel is tested against. */
    public abstract float getFloat(long index);

    /**
     * Dot product of elements {@code [offset, offset + n)} of this tensor with {@code x[xOffset .. xOffset + n)}.
     * {@code offset} is a multiple of the block size whenever callers pass row starts of a matrix whose row
     * length is a multiple of the block size (always true for GGML files). The default is the scalar path.
     */
    public float dot(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * One row against several vectors: {@code out[outOffset + t*outStride] = dot(offset, x, xOffset + t*xStride, n)}
     * for {@code t < count}. The matrix-matrix product of prefill is this per row, so a kernel can decode each
     * weight block once and apply it to several tokens (register blocking); the default loops {@link #dot}.
     */
    public void dotMany(long offset, int n, float[] x, int xOffset, int xStride, int count, float[] out, int outOffset, int outStride) {
        for (int t = 0; t < count; t++) out[outOffset + t * outStride] = dot(offset, x, xOffset + t * xStride, n);
    }

    /**
     * Prepares {@code x[xOff .. xOff + n)} for {@link #dotPrepared} with rows of n elements of this tensor, or
     * returns false when this type's kernel has no use for it (then callers use {@link #dot}). Worth it for a
     * whole matrix-vector product: the preparation is O(n), paid once for all rows.
     */
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        return false;
    }

    /** The dot of the row starting at {@code offset} with the vector {@link #prepare} returned true for. */
    public float dotPrepared(long offset, PreparedVector v) {
        throw new UnsupportedOperationException(type() + " has no prepared-vector kernel");
    }

    /** Copies elements {@code [offset, offset + n)} dequantized into {@code out[outOffset ..]}. */
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }
}
