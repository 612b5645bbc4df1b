package ai.autoglm.core.tensor;

/** An F32 tensor on the heap: for activations, tests and weights computed at load time (never for mmapped files). */
public final class ArrayFloatTensor extends FloatTensor {
    private final float[] values;

    public ArrayFloatTensor(float[] values) {
        this.values = values;
    }

    public float[] values() {
        return values;
    }

    @Override
    public long size() {
        return values.length;
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return values[Math.toIntExact(index)];
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        System.arraycopy(values, Math.toIntExact(offset), out, outOffset, n);
    }
}
