package ai.autoglm.core.model;

/**
 * The role a weight tensor plays, with its GGUF name (llama.cpp src/llama-arch.cpp {@code LLM_TENSOR_NAMES}).
 * Per-layer names carry a {@code %d} for the block index. Every {@link WeightSource} speaks these names, so
 * the forward pass knows one naming only; an {@link Architecture} says which roles it uses.
 */
public enum TensorRole {
    TOKEN_EMBD("token_embd.weight"),
    OUTPUT_NORM("output_norm.weight"),
    OUTPUT("output.weight"),
    /** Llama 3.1 per-dimension rope frequency divisors (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors). */
    ROPE_FREQS("rope_freqs.weight"),
    ATTN_NORM("blk.%d.attn_norm.weight"),
    ATTN_Q("blk.%d.attn_q.weight"),
    ATTN_K("blk.%d.attn_k.weight"),
    ATTN_V("blk.%d.attn_v.weight"),
    ATTN_Q_BIAS("blk.%d.attn_q.bias"),
    ATTN_K_BIAS("blk.%d.attn_k.bias"),
    ATTN_V_BIAS("blk.%d.attn_v.bias"),
    /** Fused q|k|v rows (ChatGLM {@code query_key_value}). */
    ATTN_QKV("blk.%d.attn_qkv.weight"),
    ATTN_QKV_BIAS("blk.%d.attn_qkv.bias"),
    ATTN_OUT("blk.%d.attn_output.weight"),
    /** Norm on the attention output before the residual add (GLM-4-0414 {@code post_self_attn_layernorm}). */
    ATTN_POST_NORM("blk.%d.post_attention_norm.weight"),
    FFN_NORM("blk.%d.ffn_norm.weight"),
    FFN_GATE("blk.%d.ffn_gate.weight"),
    /** Up projection; with a fused gate-up layout its rows are gate then up (llama.cpp LLM_FFN_SWIGLU on ffn_up). */
    FFN_UP("blk.%d.ffn_up.weight"),
    FFN_DOWN("blk.%d.ffn_down.weight"),
    /** Norm on the MLP output before the residual add (GLM-4-0414 {@code post_mlp_layernorm}). */
    FFN_POST_NORM("blk.%d.post_ffw_norm.weight");

    private final String pattern;

    TensorRole(String pattern) {
        this.pattern = pattern;
    }

    public boolean perLayer() {
        return pattern.contains("%d");
    }

    /** The GGUF name for a global tensor. */
    public String tensorName() {
        if (perLayer()) throw new IllegalStateException(this + " is per layer");
        return pattern;
    }

    /** The GGUF name in block {@code layer}. */
    public String tensorName(int layer) {
        if (!perLayer()) return pattern;
        return pattern.replace("%d", Integer.toString(layer));
    }
}
