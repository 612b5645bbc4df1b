package ai.autoglm.core.memory;

import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One weight tensor as the memory model sees it: its GGUF name, shape (GGUF order, {@code shape[0]} the row
 * length) and storage type. A compression plan is a list of these with changed types (or shapes).
 */
public record TensorSpec(String name, long[] shape, GgmlType type) {
    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }

    /** Bytes the tensor takes in {@link #type()}'s block layout (ggml_nbytes). */
    public long bytes() {
        return type.bytesFor(elements());
    }

    public int dims() {
        return shape.length;
    }

    public TensorSpec withType(GgmlType t) {
        return new TensorSpec(name, shape, t);
    }

    /** Every tensor of {@code weights}, with the type it is stored in. */
    public static List<TensorSpec> of(WeightSource weights) {
        List<TensorSpec> out = new ArrayList<>();
        for (String name : weights.names()) out.add(new TensorSpec(name, weights.shape(name), weights.tensor(name).type()));
        return out;
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + " " + type;
    }
}
