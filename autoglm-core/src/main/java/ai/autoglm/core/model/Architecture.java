package ai.autoglm.core.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A model architecture as one row of data, after llama.cpp src/llama-arch.cpp (an architecture is its names, its
 * tensors, its keys): its GGUF name ({@code general.architecture}), the Hugging Face layouts that map onto it (class,
 * {@code model_type}, HF tensor names, config keys and defaults: {@link HfLayout}), the rope style of each layout, and
 * the structural switches that decide its per-layer tensor list ({@link #layerTensors}) and that the one forward pass
 * in {@link TransformerModel} branches on. GGUF metadata keys are {@link GgufKeys}. Adding an architecture means adding
 * a row here (or {@link #register registering} one), not a new forward pass; the loader, the HF-to-GGUF converter,
 * training, pruning, the memory estimate and the HF exporter all read the row.
 *
 * @param ggufName       {@code general.architecture} value
 * @param ggufRope       rope style of GGUF files of this architecture (llama.cpp {@code llama_model_rope_type})
 * @param hfRope         rope style of the HF checkpoint's unconverted q/k rows
 * @param fusedQkv       q, k, v may come in one {@code attn_qkv} tensor (rows q then k then v); used when the weights
 *                       have it, else split q/k/v (llama.cpp loads {@code wqkv} with TENSOR_NOT_REQUIRED for chatglm/glm4)
 * @param fusedGateUp    gate and up in one {@code ffn_up} tensor of 2*ffn rows (gate first)
 * @param defaultQkvBias whether q/k/v carry a bias whatever the config says (Qwen2: always)
 * @param postNorms      extra norms on the attention and MLP outputs before the residual adds
 * @param hfLayouts      the Hugging Face layouts read as (and, the first native one, exported as) this architecture
 * @param qkNorm         q and k are RMS-normed per head before rope whatever the config says (Qwen3); others may
 *                       still have them by config ({@code use_qk_norm}) or, in GGUF, by the tensors' presence
 * @param moeGating      the router's gating of a mixture-of-experts row (its layers after the leading dense ones have
 *                       {@code ffn_gate_inp} and stacked {@code ffn_*_exps}), or null for a dense architecture
 * @param ffnNorm        the role of the norm before the MLP: {@link TensorRole#FFN_NORM}, except glm4moe, whose
 *                       converter maps {@code post_attention_layernorm} to {@code post_attention_norm} and whose graph
 *                       (llm_build_glm4_moe) norms the MLP input with {@code attn_post_norm}
 */
public record Architecture(String ggufName, RopeStyle ggufRope, RopeStyle hfRope, boolean fusedQkv, boolean fusedGateUp,
                           boolean defaultQkvBias, boolean postNorms, List<HfLayout> hfLayouts, boolean qkNorm,
                           MoeConfig.Gating moeGating, TensorRole ffnNorm) {

    public Architecture {
        hfLayouts = List.copyOf(hfLayouts);
        if (ffnNorm != TensorRole.FFN_NORM && ffnNorm != TensorRole.ATTN_POST_NORM) throw new IllegalArgumentException("MLP norm role " + ffnNorm);
        if (ffnNorm == TensorRole.ATTN_POST_NORM && postNorms) throw new IllegalArgumentException("post_attention_norm cannot be both the MLP norm and a post-norm");
    }

    /** A dense row without q/k norms (the shape of the first rows of the table). */
    public Architecture(String ggufName, RopeStyle ggufRope, RopeStyle hfRope, boolean fusedQkv, boolean fusedGateUp,
                        boolean defaultQkvBias, boolean postNorms, List<HfLayout> hfLayouts) {
        this(ggufName, ggufRope, hfRope, fusedQkv, fusedGateUp, defaultQkvBias, postNorms, hfLayouts, false, null, TensorRole.FFN_NORM);
    }

    /** Whether this is a mixture-of-experts row. */
    public boolean moe() {
        return moeGating != null;
    }

    /**
     * A row whose HF layouts are those the built-in rows register for {@code hfClasses} (for a variant of a built-in
     * architecture with other structural switches, e.g. in tests).
     */
    public Architecture(String ggufName, List<String> hfClasses, RopeStyle ggufRope, RopeStyle hfRope, boolean fusedQkv,
                        boolean fusedGateUp, boolean defaultQkvBias, boolean postNorms) {
        this(ggufName, ggufRope, hfRope, fusedQkv, fusedGateUp, defaultQkvBias, postNorms, builtInLayouts(hfClasses));
    }

    /** Llama 2/3/3.1/3.2 (HF modeling_llama.py; llama.cpp LLM_ARCH_LLAMA, rope NORM on permuted q/k). */
    public static final Architecture LLAMA = new Architecture("llama", RopeStyle.NORMAL, RopeStyle.NEOX,
            false, false, false, false,
            List.of(new HfLayout("LlamaForCausalLM", "llama", true, HfLayout.LLAMA_NAMES, HfConfigKeys.LLAMA)));

    /** Qwen2 / Qwen2.5 (HF modeling_qwen2.py: q/k/v bias; llama.cpp LLM_ARCH_QWEN2, rope NEOX, no permute). */
    public static final Architecture QWEN2 = new Architecture("qwen2", RopeStyle.NEOX, RopeStyle.NEOX,
            false, false, true, false,
            List.of(new HfLayout("Qwen2ForCausalLM", "qwen2", false, HfLayout.LLAMA_NAMES, HfConfigKeys.QWEN2)));

    /**
     * ChatGLM3 / GLM-4-9B: the remote-code {@code ChatGLMModel} (THUDM modeling_chatglm.py) and the transformers
     * {@code GlmForCausalLM} (models/glm/modeling_glm.py), which llama.cpp's converter both registers under
     * {@code ChatGLMModel} / MODEL_ARCH.CHATGLM ({@code @ModelBase.register("GlmForCausalLM", "ChatGLMModel",
     * "ChatGLMForConditionalGeneration")}). Fused gate|up ({@code dense_h_to_4h}, {@code gate_up_proj}); q/k/v fused
     * ({@code query_key_value}) or split ({@code q_proj}...). Rotary on the first half of each head with adjacent pairs
     * (2i, 2i+1): modeling_chatglm.py apply_rotary_pos_emb reshapes to (..., rot_dim/2, 2); modeling_glm.py rotate_half
     * takes x[..., 0::2], x[..., 1::2]. llama.cpp: LLM_ARCH_CHATGLM is LLAMA_ROPE_TYPE_NORM (llama_model_rope_type) and
     * the converter does not permute q/k, so HF and GGUF rows agree and both are NORMAL.
     */
    public static final Architecture CHATGLM = new Architecture("chatglm", RopeStyle.NORMAL, RopeStyle.NORMAL,
            true, true, false, false,
            List.of(new HfLayout("ChatGLMModel", "chatglm", false, HfLayout.CHATGLM_NAMES, HfConfigKeys.CHATGLM_REMOTE),
                    new HfLayout("ChatGLMForConditionalGeneration", "chatglm", false, HfLayout.CHATGLM_NAMES, HfConfigKeys.CHATGLM_REMOTE),
                    new HfLayout("GlmForCausalLM", "glm", false, HfLayout.GLM_NAMES, HfConfigKeys.GLM)));

    /**
     * GLM-4-0414 (transformers models/glm4/modeling_glm4.py Glm4ForCausalLM): GlmForCausalLM plus
     * {@code post_self_attn_layernorm} / {@code post_mlp_layernorm} on the sublayer outputs. llama.cpp LLM_ARCH_GLM4,
     * LLAMA_ROPE_TYPE_NORM unless M-RoPE (vision) sections are present; no q/k permutation (Glm4Model.modify_tensors).
     */
    public static final Architecture GLM4 = new Architecture("glm4", RopeStyle.NORMAL, RopeStyle.NORMAL,
            true, true, false, true,
            List.of(new HfLayout("Glm4ForCausalLM", "glm4", false, HfLayout.GLM4_NAMES, HfConfigKeys.GLM)));

    /**
     * Qwen3 dense (transformers models/qwen3/modeling_qwen3.py Qwen3ForCausalLM): Qwen2 without the q/k/v bias, with
     * {@code q_norm} / {@code k_norm} (RMSNorm over head_dim) applied per head before rope, head_dim explicit.
     * llama.cpp LLM_ARCH_QWEN3: LLAMA_ROPE_TYPE_NEOX, attn_q_norm / attn_k_norm.
     */
    public static final Architecture QWEN3 = new Architecture("qwen3", RopeStyle.NEOX, RopeStyle.NEOX,
            false, false, false, false,
            List.of(new HfLayout("Qwen3ForCausalLM", "qwen3", false, HfLayout.QWEN3_NAMES, HfConfigKeys.QWEN3)),
            true, null, TensorRole.FFN_NORM);

    /**
     * Qwen3-MoE (modeling_qwen3_moe.py Qwen3MoeSparseMoeBlock): Qwen3 attention, every layer's MLP routed: softmax over
     * the router logits, top-k, renormalized when {@code norm_topk_prob}; no shared expert. llama.cpp LLM_ARCH_QWEN3MOE
     * (llm_build_qwen3moe: build_moe_ffn with LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX), rope NEOX.
     */
    public static final Architecture QWEN3MOE = new Architecture("qwen3moe", RopeStyle.NEOX, RopeStyle.NEOX,
            false, false, false, false,
            List.of(new HfLayout("Qwen3MoeForCausalLM", "qwen3_moe", false, HfLayout.QWEN3MOE_NAMES, HfConfigKeys.QWEN3MOE)),
            true, MoeConfig.Gating.SOFTMAX, TensorRole.FFN_NORM);

    /**
     * GLM-4.5 / GLM-4.5-Air / GLM-4.6 (transformers models/glm4_moe/modeling_glm4_moe.py Glm4MoeForCausalLM): q/k/v bias
     * when {@code attention_bias}, q/k norm when {@code use_qk_norm}, partial rotary (rotate_half over the first
     * head_dim * partial_rotary_factor dims: NEOX), the first {@code first_k_dense_replace} layers dense, then sigmoid
     * routing with {@code e_score_correction_bias} for selection, grouped top-k, {@code routed_scaling_factor}, and a
     * shared-expert MLP; the MTP block(s) after the last layer are read and ignored. llama.cpp LLM_ARCH_GLM4_MOE.
     */
    public static final Architecture GLM4MOE = new Architecture("glm4moe", RopeStyle.NEOX, RopeStyle.NEOX,
            false, false, false, false,
            List.of(new HfLayout("Glm4MoeForCausalLM", "glm4_moe", false, HfLayout.GLM4MOE_NAMES, HfConfigKeys.GLM4MOE)),
            false, MoeConfig.Gating.SIGMOID, TensorRole.ATTN_POST_NORM);

    private static final List<Architecture> BUILT_IN = List.of(LLAMA, QWEN2, CHATGLM, GLM4, QWEN3, QWEN3MOE, GLM4MOE);
    private static final List<Architecture> TABLE = new CopyOnWriteArrayList<>(BUILT_IN);

    /** Every architecture: the built-in rows, then those {@link #register registered}. A live, read-only view. */
    public static final List<Architecture> ALL = Collections.unmodifiableList(TABLE);

    /**
     * Adds a row. Its GGUF name and HF classes must not be taken by another row, so every lookup stays unambiguous.
     */
    public static synchronized void register(Architecture row) {
        if (byGgufName(row.ggufName) != null) throw new IllegalArgumentException("architecture " + row.ggufName + " is already registered");
        for (HfLayout l : row.hfLayouts) {
            if (byHfClass(l.hfClass()) != null) throw new IllegalArgumentException("HF class " + l.hfClass() + " is already registered");
        }
        TABLE.add(row);
    }

    /** Removes a {@link #register registered} row (built-in rows stay); true when it was there. */
    public static synchronized boolean unregister(Architecture row) {
        if (BUILT_IN.contains(row)) throw new IllegalArgumentException("built-in architecture " + row);
        return TABLE.remove(row);
    }

    /** The architecture with this GGUF name, or null. */
    public static Architecture byGgufName(String name) {
        for (Architecture a : TABLE) if (a.ggufName.equals(name)) return a;
        return null;
    }

    /** The architecture of this HF class (e.g. {@code LlamaForCausalLM}), or null. */
    public static Architecture byHfClass(String hfClass) {
        for (Architecture a : TABLE) if (a.hfLayout(hfClass) != null) return a;
        return null;
    }

    /** The HF layout of class {@code hfClass} in any row, or null. */
    public static HfLayout layoutOf(String hfClass) {
        for (Architecture a : TABLE) {
            HfLayout l = a.hfLayout(hfClass);
            if (l != null) return l;
        }
        return null;
    }

    /**
     * The HF layout a config.json describes: by its {@code architectures[0]} class, or, without an
     * {@code architectures} list, by its {@code model_type}; null when no row has it.
     */
    public static HfLayout layoutOf(JsonNode config) {
        JsonNode archs = config.get("architectures");
        if (archs != null && archs.isArray() && !archs.isEmpty()) return layoutOf(archs.get(0).asText());
        String type = config.path("model_type").asText(null);
        if (type == null) return null;
        for (Architecture a : TABLE) {
            for (HfLayout l : a.hfLayouts) if (l.modelType().equals(type)) return l;
        }
        return null;
    }

    /** This row's layout of class {@code hfClass}, or null. */
    public HfLayout hfLayout(String hfClass) {
        for (HfLayout l : hfLayouts) if (l.hfClass().equals(hfClass)) return l;
        return null;
    }

    /** The HF classes ({@code config.json architectures}) read as this architecture. */
    public List<String> hfClasses() {
        return hfLayouts.stream().map(HfLayout::hfClass).toList();
    }

    /**
     * One tensor of a layer: its role and its shape as GGUF orders it ({@code in} = row length, {@code out} = rows);
     * a vector (norm or bias) has {@code in == 0} and {@code out} elements.
     */
    public record LayerTensor(TensorRole role, int in, int out, int experts) {
        public LayerTensor(TensorRole role, int in, int out) {
            this(role, in, out, 0);
        }

        public boolean vector() {
            return in == 0;
        }

        /** A stacked routed-expert tensor: {@code experts} matrices of {@code out} rows of {@code in} (GGUF 3-D). */
        public boolean stacked() {
            return experts > 0;
        }

        /** The GGUF shape (row length first). */
        public long[] shape() {
            return vector() ? new long[]{out} : stacked() ? new long[]{in, out, experts} : new long[]{in, out};
        }
    }

    /**
     * The tensors of one layer for {@code config}, in llama.cpp's order (llama-model.cpp load_tensors): attention norm,
     * q|k|v (fused when {@code fusedQkvWeights}) with their biases when the config has them, attention output, the
     * post-attention norm, the MLP norm, gate and up (one tensor of 2*ffn rows when {@link #fusedGateUp}), down, the
     * post-MLP norm. The one derivation of the per-layer tensor set: inference, training and pruning all read it.
     *
     * @param fusedQkvWeights the weights hold one {@code attn_qkv}; only for architectures with {@link #fusedQkv}
     */
    public List<LayerTensor> layerTensors(ModelConfig config, boolean fusedQkvWeights) {
        if (config.moe() != null) {
            throw new IllegalArgumentException("the layers of the mixture-of-experts model " + this + " differ (dense and routed): use layerTensors(config, fused, layer)");
        }
        return layerTensors(config, fusedQkvWeights, 0);
    }

    /**
     * The tensors of layer {@code layer}: as {@link #layerTensors(ModelConfig, boolean)}, plus q/k norms after the
     * projections when the config has them, and for a routed layer of an MoE config, in place of gate/up/down: the
     * router {@code ffn_gate_inp}, the selection bias {@code exp_probs_b} (sigmoid gating), the stacked experts
     * {@code ffn_gate_exps}, {@code ffn_up_exps}, {@code ffn_down_exps}, and the shared expert {@code ffn_*_shexp}
     * (llama-model.cpp load_tensors, LLM_ARCH_QWEN3MOE / LLM_ARCH_GLM4_MOE).
     */
    public List<LayerTensor> layerTensors(ModelConfig config, boolean fusedQkvWeights, int layer) {
        if (fusedQkvWeights && !fusedQkv) throw new IllegalArgumentException(this + " has no fused q|k|v projection");
        int dim = config.dim(), qDim = config.qDim(), kvDim = config.kvDim(), ffn = config.ffnDim();
        List<LayerTensor> t = new ArrayList<>();
        t.add(new LayerTensor(TensorRole.ATTN_NORM, 0, dim));
        if (fusedQkvWeights) {
            t.add(new LayerTensor(TensorRole.ATTN_QKV, dim, qDim + 2 * kvDim));
            if (config.qkvBias()) t.add(new LayerTensor(TensorRole.ATTN_QKV_BIAS, 0, qDim + 2 * kvDim));
        } else {
            t.add(new LayerTensor(TensorRole.ATTN_Q, dim, qDim));
            t.add(new LayerTensor(TensorRole.ATTN_K, dim, kvDim));
            t.add(new LayerTensor(TensorRole.ATTN_V, dim, kvDim));
            if (config.qkvBias()) {
                t.add(new LayerTensor(TensorRole.ATTN_Q_BIAS, 0, qDim));
                t.add(new LayerTensor(TensorRole.ATTN_K_BIAS, 0, kvDim));
                t.add(new LayerTensor(TensorRole.ATTN_V_BIAS, 0, kvDim));
            }
        }
        if (config.qkNorm()) {
            t.add(new LayerTensor(TensorRole.ATTN_Q_NORM, 0, config.headDim()));
            t.add(new LayerTensor(TensorRole.ATTN_K_NORM, 0, config.headDim()));
        }
        t.add(new LayerTensor(TensorRole.ATTN_OUT, qDim, dim));
        if (postNorms) t.add(new LayerTensor(TensorRole.ATTN_POST_NORM, 0, dim));
        t.add(new LayerTensor(ffnNorm, 0, dim));
        MoeConfig moe = config.moe();
        if (moe != null && moe.moeLayer(layer)) {
            int e = moe.experts(), eff = moe.expertFfn();
            t.add(new LayerTensor(TensorRole.FFN_GATE_INP, dim, e));
            if (moe.gating() == MoeConfig.Gating.SIGMOID) t.add(new LayerTensor(TensorRole.FFN_EXP_PROBS_B, 0, e));
            t.add(new LayerTensor(TensorRole.FFN_GATE_EXPS, dim, eff, e));
            t.add(new LayerTensor(TensorRole.FFN_DOWN_EXPS, eff, dim, e));
            t.add(new LayerTensor(TensorRole.FFN_UP_EXPS, dim, eff, e));
            if (moe.shared() > 0) {
                t.add(new LayerTensor(TensorRole.FFN_GATE_SHEXP, dim, moe.sharedFfn()));
                t.add(new LayerTensor(TensorRole.FFN_DOWN_SHEXP, moe.sharedFfn(), dim));
                t.add(new LayerTensor(TensorRole.FFN_UP_SHEXP, dim, moe.sharedFfn()));
            }
            return t;
        }
        if (fusedGateUp) {
            t.add(new LayerTensor(TensorRole.FFN_UP, dim, 2 * ffn));
        } else {
            t.add(new LayerTensor(TensorRole.FFN_GATE, dim, ffn));
            t.add(new LayerTensor(TensorRole.FFN_UP, dim, ffn));
        }
        t.add(new LayerTensor(TensorRole.FFN_DOWN, ffn, dim));
        if (postNorms) t.add(new LayerTensor(TensorRole.FFN_POST_NORM, 0, dim));
        return t;
    }

    private static List<HfLayout> builtInLayouts(List<String> hfClasses) {
        List<HfLayout> out = new ArrayList<>();
        for (String cls : hfClasses) {
            HfLayout l = layoutOf(cls);
            if (l == null) throw new IllegalArgumentException("no registered HF layout for class " + cls);
            out.add(l);
        }
        return out;
    }

    @Override
    public String toString() {
        return ggufName;
    }
}
