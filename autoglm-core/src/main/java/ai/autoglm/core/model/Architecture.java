package ai.autoglm.core.model;

import java.util.List;

/**
 * A model architecture as data, after llama.cpp src/llama-arch.cpp: its GGUF name
 * ({@code general.architecture}), the HF classes ({@code config.json architectures}) that map onto it, the
 * rope style of each layout, and the few structural switches the one forward pass in
 * {@link TransformerModel} branches on. Adding an architecture means adding a row here (and its config
 * keys in {@link ModelConfig}), not a new forward pass.
 *
 * @param ggufName       {@code general.architecture} value
 * @param hfClasses      HF {@code architectures} entries
 * @param ggufRope       rope style of GGUF files of this architecture (llama.cpp {@code llama_model_rope_type})
 * @param hfRope         rope style of the HF checkpoint's unconverted q/k rows
 * @param fusedQkv       q, k, v may come in one {@code attn_qkv} tensor (rows q then k then v); used when the weights
 *                       have it, else split q/k/v (llama.cpp loads {@code wqkv} with TENSOR_NOT_REQUIRED for chatglm/glm4)
 * @param fusedGateUp    gate and up in one {@code ffn_up} tensor of 2*ffn rows (gate first)
 * @param defaultQkvBias whether q/k/v carry a bias unless the config says otherwise (Qwen2: always)
 * @param postNorms      extra norms on the attention and MLP outputs before the residual adds
 */
public record Architecture(String ggufName, List<String> hfClasses, RopeStyle ggufRope, RopeStyle hfRope,
                           boolean fusedQkv, boolean fusedGateUp, boolean defaultQkvBias, boolean postNorms) {

    /** Llama 2/3/3.1/3.2 (HF modeling_llama.py; llama.cpp LLM_ARCH_LLAMA, rope NORM on permuted q/k). */
    public static final Architecture LLAMA = new Architecture("llama", List.of("LlamaForCausalLM"),
            RopeStyle.NORMAL, RopeStyle.NEOX, false, false, false, false);

    /** Qwen2 / Qwen2.5 (HF modeling_qwen2.py: q/k/v bias; llama.cpp LLM_ARCH_QWEN2, rope NEOX, no permute). */
    public static final Architecture QWEN2 = new Architecture("qwen2", List.of("Qwen2ForCausalLM"),
            RopeStyle.NEOX, RopeStyle.NEOX, false, false, true, false);

    /**
     * ChatGLM3 / GLM-4-9B: the remote-code {@code ChatGLMModel} (THUDM modeling_chatglm.py) and the transformers
     * {@code GlmForCausalLM} (models/glm/modeling_glm.py), which llama.cpp's converter both registers under
     * {@code ChatGLMModel} / MODEL_ARCH.CHATGLM. Fused gate|up ({@code dense_h_to_4h}, {@code gate_up_proj}); q/k/v fused
     * ({@code query_key_value}) or split ({@code q_proj}...). Rotary on the first half of each head with adjacent pairs
     * (2i, 2i+1): modeling_chatglm.py apply_rotary_pos_emb reshapes to (..., rot_dim/2, 2); modeling_glm.py rotate_half
     * takes x[..., 0::2], x[..., 1::2]. llama.cpp: LLM_ARCH_CHATGLM is LLAMA_ROPE_TYPE_NORM (llama_model_rope_type) and
     * the converter does not permute q/k, so HF and GGUF rows agree and both are NORMAL.
     */
    public static final Architecture CHATGLM = new Architecture("chatglm",
            List.of("ChatGLMModel", "ChatGLMForConditionalGeneration", "GlmForCausalLM"),
            RopeStyle.NORMAL, RopeStyle.NORMAL, true, true, false, false);

    /**
     * GLM-4-0414 (transformers models/glm4/modeling_glm4.py Glm4ForCausalLM): GlmForCausalLM plus
     * {@code post_self_attn_layernorm} / {@code post_mlp_layernorm} on the sublayer outputs. llama.cpp LLM_ARCH_GLM4,
     * LLAMA_ROPE_TYPE_NORM unless M-RoPE (vision) sections are present; no q/k permutation (Glm4Model.modify_tensors).
     */
    public static final Architecture GLM4 = new Architecture("glm4", List.of("Glm4ForCausalLM"),
            RopeStyle.NORMAL, RopeStyle.NORMAL, true, true, false, true);

    public static final List<Architecture> ALL = List.of(LLAMA, QWEN2, CHATGLM, GLM4);

    /** The architecture with this GGUF name, or null. */
    public static Architecture byGgufName(String name) {
        for (Architecture a : ALL) if (a.ggufName.equals(name)) return a;
        return null;
    }

    /** The architecture of this HF class (e.g. {@code LlamaForCausalLM}), or null. */
    public static Architecture byHfClass(String hfClass) {
        for (Architecture a : ALL) if (a.hfClasses.contains(hfClass)) return a;
        return null;
    }

    @Override
    public String toString() {
        return ggufName;
    }
}
