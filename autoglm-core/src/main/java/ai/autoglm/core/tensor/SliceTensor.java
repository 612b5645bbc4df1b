package ai.autoglm.core.tensor;

/**
 * Elements {@code [offset, offset + size)} of another tensor, for tensors that are not a {@link SegmentTensor} (heap
 * arrays, a stacked view of separate tensors); {@link Tensors#slice} slices segment tensors by their bytes instead.
 */
final class SliceTensor extends FloatTensor {
    private final FloatTensor base;
    private final long offset;
    private final long size;

    SliceTensor(FloatTensor base, long offset, long size) {
        this.base = base;
        this.offset = offset;
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public GgmlType type() {
        return base.type();
    }

    @Override
    public float getFloat(long index) {
        return base.getFloat(offset + index);
    }

    @Override
    public float dot(long at, float[] x, int xOffset, int n) {
        return base.dot(offset + at, x, xOffset, n);
    }

    @Override
    public void dotMany(long at, int n, float[] x, int xOffset, int xStride, int count, float[] out, int outOffset, int outStride) {
        base.dotMany(offset + at, n, x, xOffset, xStride, count, out, outOffset, outStride);
    }

    @Override
    public void copyTo(long at, float[] out, int outOffset, int n) {
        base.copyTo(offset + at, out, outOffset, n);
    }
}
