package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

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

    @Override
    void close();
}
