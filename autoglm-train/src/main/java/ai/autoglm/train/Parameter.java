package ai.autoglm.train;

/**
 * One trainable tensor: its GGUF name ({@link ai.autoglm.core.model.TensorRole}), shape in GGUF order
 * ({@code shape[0]} is the row length), F32 values and their gradient on the heap, and whether AdamW decays it.
 */
public record Parameter(String name, long[] shape, float[] value, float[] grad, boolean decay) {

    public Parameter(String name, long[] shape, boolean decay) {
        this(name, shape, new float[size(shape)], new float[size(shape)], decay);
    }

    private static int size(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return Math.toIntExact(n);
    }

    public int size() {
        return value.length;
    }
}
