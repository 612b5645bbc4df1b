package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;

/**
 * One tensor of a {@link QuantizationPlan}: its GGUF name and shape ({@code shape[0]} the row length), the type it has
 * in the source and the type it gets, and why (the llama.cpp rule that decided, in words).
 */
public record PlannedTensor(String name, long[] shape, GgmlType sourceType, GgmlType targetType, String reason) {

    public PlannedTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Whether the data is re-encoded (false: copied as it is). */
    public boolean quantized() {
        return sourceType != targetType;
    }

    public long elements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public int rowLength() {
        return Math.toIntExact(shape[0]);
    }

    /** Bytes of the tensor in the output. */
    public long outputBytes() {
        return targetType.bytesFor(elements());
    }

    public long sourceBytes() {
        return sourceType.bytesFor(elements());
    }
}
