package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;

/** A source tensor as the planner sees it: GGUF name, GGUF-order shape, stored type. */
public record TensorDescriptor(String name, long[] shape, GgmlType type) {
    public TensorDescriptor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
