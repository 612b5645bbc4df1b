package ai.autoglm.core.model;

/**
 * How rotary position embedding pairs up the dimensions of a head (llama.cpp {@code llama_rope_type}).
 */
public enum RopeStyle {
    /**
     * Adjacent pairs {@code (2i, 2i+1)} rotate together ({@code LLAMA_ROPE_TYPE_NORM}, Meta's original
     * complex-number formulation). GGUF llama files use it: convert_hf_to_gguf.py {@code LlamaModel.permute}
     * reorders the rows of q/k so that HF's rotate-half pairs become adjacent.
     */
    NORMAL,
    /**
     * Pairs {@code (i, i + rotaryDim/2)} rotate together ({@code LLAMA_ROPE_TYPE_NEOX}, the HF
     * {@code rotate_half} of modeling_llama.py / modeling_qwen2.py). HF checkpoints and GGUF qwen2 use it.
     */
    NEOX
}
