package ai.autoglm.core.format.gguf;

import ai.autoglm.core.tensor.GgmlType;

import java.util.Arrays;

/**
 * One entry of a GGUF file's tensor info table (ggml-org/ggml docs/gguf.md, gguf_tensor_info_t).
 *
 * @param name   the tensor name (llama.cpp naming, e.g. {@code blk.0.attn_q.weight})
 * @param shape  dimensions in GGUF order: {@code shape[0]} is the row length (innermost, contiguous)
 * @param type   the data layout
 * @param offset byte offset of the data relative to the start of the data section (a multiple of the alignment)
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the dimensions; 1 for zero dimensions). */
    public long elements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Size of the data in bytes. */
    public long byteSize() {
        return type.bytesFor(elements());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && type == t.type && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + type.hashCode() + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return "GgufTensorInfo[" + name + " " + Arrays.toString(shape) + " " + type + " @" + offset + "]";
    }
}
