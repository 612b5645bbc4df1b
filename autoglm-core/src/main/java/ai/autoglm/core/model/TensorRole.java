package ai.autoglm.core.model;

/**
 * The role a weight tensor plays, with its GGUF name (llama.cpp src/llama-arch.cpp {@code LLM_TENSOR_NAMES}; gguf-py
 * constants.py {@code TENSOR_NAMES}). Per-layer names carry {@code {bid}} for the block index, the placeholder gguf-py
 * uses in both its GGUF and its Hugging Face name tables (tensor_mapping.py), so the HF names of an
 * {@link HfLayout} and these names follow one scheme. Every {@link WeightSource} speaks these names, so the forward
 * pass knows one naming only; an {@link Architecture} says which roles a layer has ({@link Architecture#layerTensors}).
 */
public enum TensorRole {
    TOKEN_EMBD("token_embd", ".weight"),
    OUTPUT_NORM("output_norm", ".weight"),
    OUTPUT("output", ".weight"),
    /** Llama 3.1 per-dimension rope frequency divisors (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors). */
    ROPE_FREQS("rope_freqs", ".weight"),
    ATTN_NORM("blk.{bid}.attn_norm", ".weight"),
    ATTN_Q("blk.{bid}.attn_q", ".weight"),
    ATTN_K("blk.{bid}.attn_k", ".weight"),
    ATTN_V("blk.{bid}.attn_v", ".weight"),
    ATTN_Q_BIAS("blk.{bid}.attn_q", ".bias"),
    ATTN_K_BIAS("blk.{bid}.attn_k", ".bias"),
    ATTN_V_BIAS("blk.{bid}.attn_v", ".bias"),
    /** Fused q|k|v rows (ChatGLM {@code query_key_value}). */
    ATTN_QKV("blk.{bid}.attn_qkv", ".weight"),
    ATTN_QKV_BIAS("blk.{bid}.attn_qkv", ".bias"),
    ATTN_OUT("blk.{bid}.attn_output", ".weight"),
    /** Norm on the attention output before the residual add (GLM-4-0414 {@code post_self_attn_layernorm}). */
    ATTN_POST_NORM("blk.{bid}.post_attention_norm", ".weight"),
    FFN_NORM("blk.{bid}.ffn_norm", ".weight"),
    FFN_GATE("blk.{bid}.ffn_gate", ".weight"),
    /** Up projection; with a fused gate-up layout its rows are gate then up (llama.cpp LLM_FFN_SWIGLU on ffn_up). */
    FFN_UP("blk.{bid}.ffn_up", ".weight"),
    FFN_DOWN("blk.{bid}.ffn_down", ".weight"),
    /** Norm on the MLP output before the residual add (GLM-4-0414 {@code post_mlp_layernorm}). */
    FFN_POST_NORM("blk.{bid}.post_ffw_norm", ".weight"),
    /** Per-head RMSNorm of the queries before rope (Qwen3 {@code q_norm}, GLM-4.5 with {@code use_qk_norm}). */
    ATTN_Q_NORM("blk.{bid}.attn_q_norm", ".weight"),
    ATTN_K_NORM("blk.{bid}.attn_k_norm", ".weight"),
    /** MoE router: one row of {@code dim} per routed expert (HF {@code mlp.gate}). */
    FFN_GATE_INP("blk.{bid}.ffn_gate_inp", ".weight"),
    /**
     * Router score bias used for expert selection only (HF {@code mlp.gate.e_score_correction_bias}; llama.cpp
     * LLM_TENSOR_FFN_EXP_PROBS_B, loaded as a ".bias").
     */
    FFN_EXP_PROBS_B("blk.{bid}.exp_probs_b", ".bias"),
    /** Routed experts stacked as llama.cpp stores them: 3-D {@code [dim, expertFfn, experts]} (GGUF order). */
    FFN_GATE_EXPS("blk.{bid}.ffn_gate_exps", ".weight"),
    FFN_UP_EXPS("blk.{bid}.ffn_up_exps", ".weight"),
    /** {@code [expertFfn, dim, experts]}. */
    FFN_DOWN_EXPS("blk.{bid}.ffn_down_exps", ".weight"),
    /** Shared expert(s), one MLP of {@code expertFfn * sharedExperts} (HF {@code mlp.shared_experts}). */
    FFN_GATE_SHEXP("blk.{bid}.ffn_gate_shexp", ".weight"),
    FFN_UP_SHEXP("blk.{bid}.ffn_up_shexp", ".weight"),
    FFN_DOWN_SHEXP("blk.{bid}.ffn_down_shexp", ".weight"),
    /** GLM-4.5 multi-token-prediction block(s) past the last layer (llama.cpp LLM_TENSOR_NEXTN_*): read, never run. */
    NEXTN_EH_PROJ("blk.{bid}.nextn.eh_proj", ".weight"),
    NEXTN_EMBED_TOKENS("blk.{bid}.nextn.embed_tokens", ".weight"),
    NEXTN_ENORM("blk.{bid}.nextn.enorm", ".weight"),
    NEXTN_HNORM("blk.{bid}.nextn.hnorm", ".weight"),
    NEXTN_SHARED_HEAD_HEAD("blk.{bid}.nextn.shared_head_head", ".weight"),
    NEXTN_SHARED_HEAD_NORM("blk.{bid}.nextn.shared_head_norm", ".weight");

    /** The expert-id placeholder in HF names of per-expert tensors ({@code mlp.experts.{xid}.gate_proj}, gguf-py's {@code {xid}}). */
    public static final String XID = "{xid}";

    /** The block-id placeholder in per-layer names (gguf-py's {@code {bid}}). */
    public static final String BID = "{bid}";

    private final String base;
    private final String suffix;

    TensorRole(String base, String suffix) {
        this.base = base;
        this.suffix = suffix;
    }

    /** The name template without {@code .weight} / {@code .bias}, e.g. {@code blk.{bid}.attn_q}. */
    public String base() {
        return base;
    }

    /** {@code .weight} or {@code .bias}. */
    public String suffix() {
        return suffix;
    }

    /** A stacked routed-expert tensor (3-D in GGUF). */
    public boolean stackedExperts() {
        return this == FFN_GATE_EXPS || this == FFN_UP_EXPS || this == FFN_DOWN_EXPS;
    }

    public boolean perLayer() {
        return base.contains(BID);
    }

    /** The GGUF name for a global tensor. */
    public String tensorName() {
        if (perLayer()) throw new IllegalStateException(this + " is per layer");
        return base + suffix;
    }

    /** The GGUF name in block {@code layer}. */
    public String tensorName(int layer) {
        if (!perLayer()) return base + suffix;
        return base.replace(BID, Integer.toString(layer)) + suffix;
    }

    /** The role whose base is {@code base} and suffix {@code suffix}, or null. */
    public static TensorRole of(String base, String suffix) {
        for (TensorRole r : values()) if (r.base.equals(base) && r.suffix.equals(suffix)) return r;
        return null;
    }
}
