package ai.autoglm.core.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One Hugging Face layout of an {@link Architecture}: the {@code architectures[0]} class of config.json, its
 * {@code model_type}, whether llama.cpp's converter permutes q/k rows for it ({@code LlamaModel.undo_permute}), the HF
 * name of each tensor (gguf-py tensor_mapping.py; {@code {bid}} for the block id, without {@code .weight} /
 * {@code .bias}: a weight role's row serves its bias too) and where its config keeps each hyper-parameter.
 *
 * @param hfClass     config.json {@code architectures[0]}
 * @param modelType   config.json {@code model_type}
 * @param permuteQK   q/k rows are rotate-half in HF and interleaved in GGUF ({@code LlamaModel.permute})
 * @param tensorNames HF base name of each tensor role, keyed by the {@code .weight} role
 * @param config      config.json keys and defaults
 */
public record HfLayout(String hfClass, String modelType, boolean permuteQK, Map<TensorRole, String> tensorNames,
                       HfConfigKeys config) {

    public HfLayout {
        tensorNames = Collections.unmodifiableMap(new LinkedHashMap<>(tensorNames));
    }

    /** This layout under another class name and model type (a model family reusing a layout). */
    public HfLayout as(String otherClass, String otherModelType) {
        return new HfLayout(otherClass, otherModelType, permuteQK, tensorNames, config);
    }

    /** Llama-style module names (HF modeling_llama.py / modeling_qwen2.py; tensor_mapping.py rows). */
    public static final Map<TensorRole, String> LLAMA_NAMES = names(
            TensorRole.TOKEN_EMBD, "model.embed_tokens",
            TensorRole.OUTPUT_NORM, "model.norm",
            TensorRole.OUTPUT, "lm_head",
            TensorRole.ATTN_NORM, "model.layers.{bid}.input_layernorm",
            TensorRole.ATTN_Q, "model.layers.{bid}.self_attn.q_proj",
            TensorRole.ATTN_K, "model.layers.{bid}.self_attn.k_proj",
            TensorRole.ATTN_V, "model.layers.{bid}.self_attn.v_proj",
            TensorRole.ATTN_OUT, "model.layers.{bid}.self_attn.o_proj",
            TensorRole.FFN_NORM, "model.layers.{bid}.post_attention_layernorm",
            TensorRole.FFN_GATE, "model.layers.{bid}.mlp.gate_proj",
            TensorRole.FFN_UP, "model.layers.{bid}.mlp.up_proj",
            TensorRole.FFN_DOWN, "model.layers.{bid}.mlp.down_proj");

    /**
     * Remote-code ChatGLM3 / GLM-4 (THUDM modeling_chatglm.py module names; tensor_mapping.py rows marked "chatglm"):
     * fused {@code query_key_value} (rows q|k|v, with bias when add_qkv_bias) and fused {@code dense_h_to_4h} (gate|up)
     * kept fused, as convert_hf_to_gguf.py ChatGLMModel writes them.
     */
    public static final Map<TensorRole, String> CHATGLM_NAMES = names(
            TensorRole.TOKEN_EMBD, "transformer.embedding.word_embeddings",
            TensorRole.OUTPUT_NORM, "transformer.encoder.final_layernorm",
            TensorRole.OUTPUT, "transformer.output_layer",
            TensorRole.ATTN_NORM, "transformer.encoder.layers.{bid}.input_layernorm",
            TensorRole.ATTN_QKV, "transformer.encoder.layers.{bid}.self_attention.query_key_value",
            TensorRole.ATTN_OUT, "transformer.encoder.layers.{bid}.self_attention.dense",
            TensorRole.FFN_NORM, "transformer.encoder.layers.{bid}.post_attention_layernorm",
            TensorRole.FFN_UP, "transformer.encoder.layers.{bid}.mlp.dense_h_to_4h",
            TensorRole.FFN_DOWN, "transformer.encoder.layers.{bid}.mlp.dense_4h_to_h");

    /** transformers GlmForCausalLM (modeling_glm.py): llama names with the fused {@code mlp.gate_up_proj} as ffn_up. */
    public static final Map<TensorRole, String> GLM_NAMES = with(LLAMA_NAMES, TensorRole.FFN_GATE, null,
            TensorRole.FFN_UP, "model.layers.{bid}.mlp.gate_up_proj");

    /** transformers Glm4ForCausalLM (modeling_glm4.py): GLM_NAMES plus the sandwich norms (tensor_mapping.py "glm-4-0414"). */
    public static final Map<TensorRole, String> GLM4_NAMES = with(GLM_NAMES,
            TensorRole.ATTN_POST_NORM, "model.layers.{bid}.post_self_attn_layernorm",
            TensorRole.FFN_POST_NORM, "model.layers.{bid}.post_mlp_layernorm");

    /** transformers Qwen3ForCausalLM (modeling_qwen3.py): llama names plus {@code self_attn.q_norm} / {@code k_norm}. */
    public static final Map<TensorRole, String> QWEN3_NAMES = with(LLAMA_NAMES,
            TensorRole.ATTN_Q_NORM, "model.layers.{bid}.self_attn.q_norm",
            TensorRole.ATTN_K_NORM, "model.layers.{bid}.self_attn.k_norm");

    /**
     * transformers Qwen3MoeForCausalLM (modeling_qwen3_moe.py): Qwen3 attention, router {@code mlp.gate}, one module per
     * expert {@code mlp.experts.{xid}.gate_proj} ... which llama.cpp's converter stacks into {@code ffn_*_exps}
     * (Qwen2MoeModel.modify_tensors).
     */
    public static final Map<TensorRole, String> QWEN3MOE_NAMES = with(QWEN3_NAMES,
            TensorRole.FFN_GATE_INP, "model.layers.{bid}.mlp.gate",
            TensorRole.FFN_GATE_EXPS, "model.layers.{bid}.mlp.experts.{xid}.gate_proj",
            TensorRole.FFN_UP_EXPS, "model.layers.{bid}.mlp.experts.{xid}.up_proj",
            TensorRole.FFN_DOWN_EXPS, "model.layers.{bid}.mlp.experts.{xid}.down_proj");

    /**
     * transformers Glm4MoeForCausalLM (modeling_glm4_moe.py; tensor_mapping.py rows "glm4moe"): the dense layers' split
     * {@code mlp.gate_proj/up_proj/down_proj}, the router {@code mlp.gate} and {@code mlp.gate.e_score_correction_bias}
     * (Glm4MoeModel.modify_tensors renames it {@code e_score_correction.bias}: GGUF {@code exp_probs_b.bias}), experts
     * stacked, {@code mlp.shared_experts.*} as {@code ffn_*_shexp}, {@code post_attention_layernorm} as
     * {@code post_attention_norm}, q/k norms, and the MTP block's {@code eh_proj}, {@code enorm}, {@code hnorm},
     * {@code embed_tokens}, {@code shared_head.head}, {@code shared_head.norm} as {@code nextn.*}.
     */
    public static final Map<TensorRole, String> GLM4MOE_NAMES = with(QWEN3MOE_NAMES,
            TensorRole.FFN_NORM, null,
            TensorRole.ATTN_POST_NORM, "model.layers.{bid}.post_attention_layernorm",
            TensorRole.FFN_EXP_PROBS_B, "model.layers.{bid}.mlp.gate.e_score_correction_bias",
            TensorRole.FFN_GATE_SHEXP, "model.layers.{bid}.mlp.shared_experts.gate_proj",
            TensorRole.FFN_UP_SHEXP, "model.layers.{bid}.mlp.shared_experts.up_proj",
            TensorRole.FFN_DOWN_SHEXP, "model.layers.{bid}.mlp.shared_experts.down_proj",
            TensorRole.NEXTN_EH_PROJ, "model.layers.{bid}.eh_proj",
            TensorRole.NEXTN_EMBED_TOKENS, "model.layers.{bid}.embed_tokens",
            TensorRole.NEXTN_ENORM, "model.layers.{bid}.enorm",
            TensorRole.NEXTN_HNORM, "model.layers.{bid}.hnorm",
            TensorRole.NEXTN_SHARED_HEAD_HEAD, "model.layers.{bid}.shared_head.head",
            TensorRole.NEXTN_SHARED_HEAD_NORM, "model.layers.{bid}.shared_head.norm");

    /** {@code base} with the given (role, name) pairs added; a null name removes the role. */
    public static Map<TensorRole, String> with(Map<TensorRole, String> base, Object... pairs) {
        Map<TensorRole, String> m = new LinkedHashMap<>(base);
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i + 1] == null) m.remove((TensorRole) pairs[i]);
            else m.put((TensorRole) pairs[i], (String) pairs[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    private static Map<TensorRole, String> names(Object... pairs) {
        return with(Map.of(), pairs);
    }
}
