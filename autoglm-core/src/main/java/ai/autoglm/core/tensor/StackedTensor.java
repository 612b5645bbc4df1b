package ai.autoglm.core.tensor;

import java.util.List;

/**
 * Equal-sized tensors seen as one, part after part (a Hugging Face checkpoint's per-expert matrices as the 3-D stacked
 * tensor llama.cpp stores): element {@code i} is element {@code i % partSize} of part {@code i / partSize}. Nothing is
 * copied. A range never spans two parts when callers read whole rows of one expert, which is how the forward pass and
 * the converter read it; {@link #copyTo} also handles ranges that do.
 */
public final class StackedTensor extends FloatTensor {
    private final List<FloatTensor> parts;
    private final long partSize;

    public StackedTensor(List<FloatTensor> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("no parts");
        this.parts = List.copyOf(parts);
        this.partSize = parts.getFirst().size();
        for (FloatTensor p : parts) {
            if (p.size() != partSize) throw new IllegalArgumentException("parts of " + p.size() + " and " + partSize + " elements");
            if (p.type() != parts.getFirst().type()) throw new IllegalArgumentException("parts of types " + p.type() + " and " + parts.getFirst().type());
        }
    }

    /** Part {@code i}, the tensor itself (zero copy). */
    public FloatTensor part(int i) {
        return parts.get(i);
    }

    public int parts() {
        return parts.size();
    }

    @Override
    public long size() {
        return partSize * parts.size();
    }

    @Override
    public GgmlType type() {
        return parts.getFirst().type();
    }

    @Override
    public float getFloat(long index) {
        return parts.get((int) (index / partSize)).getFloat(index % partSize);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (offset / partSize != (offset + n - 1) / partSize) return super.dot(offset, x, xOffset, n);
        return parts.get((int) (offset / partSize)).dot(offset % partSize, x, xOffset, n);
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        while (n > 0) {
            int p = (int) (offset / partSize);
            long in = offset % partSize;
            int len = (int) Math.min(n, partSize - in);
            parts.get(p).copyTo(in, out, outOffset, len);
            offset += len;
            outOffset += len;
            n -= len;
        }
    }
}
