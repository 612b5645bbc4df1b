package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/** Typed views of raw GGML-layout bytes. */
public final class Tensors {
    private Tensors() {
    }

    /**
     * A {@link FloatTensor} of {@code elements} values of {@code type} over {@code data} (not copied). The
     * segment must hold at least {@code type.bytesFor(elements)} bytes; the view is sliced to exactly that.
     *
     * @throws IllegalArgumentException for an unsupported type, a count that is not a multiple of the block
     *                                  size, or a segment that is too small
     */
    public static FloatTensor view(GgmlType type, MemorySegment data, long elements) {
        if (elements < 0) throw new IllegalArgumentException("negative element count " + elements);
        long bytes = type.bytesFor(elements);
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException(type + " x " + elements + " needs " + bytes + " bytes, segment has " + data.byteSize());
        }
        MemorySegment slice = data.asSlice(0, bytes);
        return switch (type) {
            case F32 -> new F32Tensor(slice, elements);
            case F16 -> new F16Tensor(slice, elements);
            case BF16 -> new BF16Tensor(slice, elements);
            case Q8_0 -> new Q8_0Tensor(slice, elements);
            case Q4_0 -> new Q4_0Tensor(slice, elements);
            case Q4_1 -> new Q4_1Tensor(slice, elements);
            case Q5_0 -> new Q5_0Tensor(slice, elements);
            case Q5_1 -> new Q5_1Tensor(slice, elements);
            case Q2_K -> new Q2_KTensor(slice, elements);
            case Q3_K -> new Q3_KTensor(slice, elements);
            case Q4_K -> new Q4_KTensor(slice, elements);
            case Q5_K -> new Q5_KTensor(slice, elements);
            case Q6_K -> new Q6_KTensor(slice, elements);
            default -> throw new IllegalArgumentException("tensor type " + type + " is not supported");
        };
    }

    /**
     * Elements {@code [offset, offset + n)} of {@code t} as a tensor of their own: for a {@link SegmentTensor} a view of
     * exactly those bytes (an expert's matrix of a stacked, memory-mapped expert tensor: the other experts' pages are
     * never touched), otherwise an offset view. Both ends must fall on block boundaries.
     */
    public static FloatTensor slice(FloatTensor t, long offset, long n) {
        if (offset < 0 || n < 0 || offset > t.size() - n) throw new IndexOutOfBoundsException("[" + offset + ", +" + n + ") of " + t.size());
        GgmlType type = t.type();
        if (offset % type.blockSize != 0 || n % type.blockSize != 0) {
            throw new IllegalArgumentException("slice [" + offset + ", +" + n + ") is not on " + type + " block boundaries");
        }
        if (t instanceof StackedTensor s && n > 0 && offset / (s.size() / s.parts()) == (offset + n - 1) / (s.size() / s.parts())) {
            long part = s.size() / s.parts();
            FloatTensor p = s.part((int) (offset / part));
            return offset % part == 0 && n == part ? p : slice(p, offset % part, n);
        }
        if (t instanceof SegmentTensor s) return view(type, s.segment().asSlice(type.bytesFor(offset), type.bytesFor(n)), n);
        return new SliceTensor(t, offset, n);
    }
}
