package ai.autoglm.core.format.safetensors;

/**
 * One tensor entry of a safetensors header.
 *
 * @param name  the tensor name (Hugging Face naming, e.g. {@code model.layers.0.self_attn.q_proj.weight})
 * @param dtype the dtype string as written in the file ({@code F32}, {@code F16}, {@code BF16}, {@code I64}, ...)
 * @param shape the shape in Hugging Face (PyTorch, row-major) order: {@code shape[shape.length - 1]} is the row length
 * @param begin start of the data, relative to the byte buffer that follows the header ({@code data_offsets[0]})
 * @param end   end (exclusive) of the data, relative to the same buffer ({@code data_offsets[1]})
 */
public record SafetensorsTensorInfo(String name, String dtype, long[] shape, long begin, long end) {

    /** Number of elements (1 for a scalar of shape {@code []}). */
    public long elements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Size of the data in bytes. */
    public long byteSize() {
        return end - begin;
    }
}
