package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.Tensors;

import java.util.Set;

/**
 * Named weight tensors of one checkpoint, always under their GGUF names ({@code token_embd.weight},
 * {@code blk.0.attn_q.weight}, ...; see llama.cpp src/llama-arch.cpp). A GGUF file is one directly; a
 * Hugging Face directory maps its names onto these, so the model code knows one naming only.
 */
public interface WeightSource extends AutoCloseable {

    /** All tensor names (GGUF naming). */
    Set<String> names();

    /** The tensor, or null when the checkpoint does not have it. */
    FloatTensor tensor(String name);

    /** The shape in GGUF order: {@code shape[0]} is the length of a row (the innermost dimension). */
    long[] shape(String name);

    /**
     * Expert {@code expert}'s matrix of the stacked expert tensor {@code name} (GGUF shape {@code [rowLength, rows,
     * experts]}, llama.cpp's {@code ffn_*_exps}): a view of that expert's bytes only, so that a forward pass reading it
     * never touches (never pages in) another expert's weights. Null when the tensor is absent.
     */
    default FloatTensor expert(String name, int expert) {
        FloatTensor t = tensor(name);
        long[] shape = shape(name);
        if (t == null || shape == null) return null;
        if (shape.length != 3) throw new IllegalArgumentException("tensor " + name + " is not 3-D, has shape " + java.util.Arrays.toString(shape));
        if (expert < 0 || expert >= shape[2]) throw new IndexOutOfBoundsException("expert " + expert + " of " + shape[2] + " in " + name);
        long per = shape[0] * shape[1];
        return Tensors.slice(t, expert * per, per);
    }

    @Override
    void close();
}
