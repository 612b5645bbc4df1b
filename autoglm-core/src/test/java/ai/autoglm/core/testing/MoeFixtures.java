package ai.autoglm.core.testing;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.tensor.GgmlType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small random-weight models of the Qwen3 and GLM-4.5 families, one set of weights written both as the Hugging Face
 * checkpoint (transformers' module names: modeling_qwen3.py, modeling_qwen3_moe.py, modeling_glm4_moe.py; one tensor
 * per expert) and as the GGUF llama.cpp's convert_hf_to_gguf.py makes from it (Qwen3Model, Qwen3MoeModel,
 * Glm4MoeModel: experts stacked into 3-D {@code ffn_*_exps}, the router as {@code ffn_gate_inp}, GLM's
 * {@code post_attention_layernorm} as {@code post_attention_norm}, {@code e_score_correction_bias} as
 * {@code exp_probs_b.bias}, the MTP block after the last layer with its {@code nextn.*} tensors), written here directly,
 * not through the project's converter. The tokenizer is {@link ModelFixtures}' byte-level BPE.
 */
public final class MoeFixtures {
    private MoeFixtures() {
    }

    public enum Kind {
        QWEN3("Qwen3ForCausalLM", "qwen3", "qwen3"),
        QWEN3_MOE("Qwen3MoeForCausalLM", "qwen3_moe", "qwen3moe"),
        GLM4_MOE("Glm4MoeForCausalLM", "glm4_moe", "glm4moe");

        public final String hfClass, modelType, ggufArch;

        Kind(String hfClass, String modelType, String ggufArch) {
            this.hfClass = hfClass;
            this.modelType = modelType;
            this.ggufArch = ggufArch;
        }
    }

    /**
     * What to generate. {@code headDim} is explicit (Qwen3 and GLM-4.5 heads are not hidden/heads); the rotary part is
     * {@code headDim * partialRotary}.
     */
    public record Spec(Kind kind, int dim, int layers, int heads, int kvHeads, int headDim, int ffn, int context,
                       float eps, double theta, boolean qkvBias, boolean qkNorm, double partialRotary,
                       int experts, int used, int expertFfn, int shared, int leadingDense, boolean normTopk, double scale,
                       int groups, int groupsUsed, int nextn, long seed) {
        public int qDim() {
            return heads * headDim;
        }

        public int kvDim() {
            return kvHeads * headDim;
        }

        public int rotaryDim() {
            return (int) (headDim * partialRotary);
        }

        public int vocab() {
            return ModelFixtures.VOCAB_SIZE;
        }

        public boolean moe() {
            return kind != Kind.QWEN3;
        }

        public boolean moeLayer(int l) {
            return moe() && l >= leadingDense;
        }

        public boolean sigmoid() {
            return kind == Kind.GLM4_MOE;
        }

        public Spec withContext(int context) {
            return new Spec(kind, dim, layers, heads, kvHeads, headDim, ffn, context, eps, theta, qkvBias, qkNorm, partialRotary,
                    experts, used, expertFfn, shared, leadingDense, normTopk, scale, groups, groupsUsed, nextn, seed);
        }

        public Spec withGroups(int groups, int groupsUsed) {
            return new Spec(kind, dim, layers, heads, kvHeads, headDim, ffn, context, eps, theta, qkvBias, qkNorm, partialRotary,
                    experts, used, expertFfn, shared, leadingDense, normTopk, scale, groups, groupsUsed, nextn, seed);
        }
    }

    /** Qwen3-0.6B's shape scaled down: head_dim 16 over hidden 64 with 6 heads (not hidden/heads), GQA 6/2, q/k norm, theta 1e6. */
    public static Spec qwen3() {
        return new Spec(Kind.QWEN3, 64, 2, 6, 2, 16, 96, 1024, 1e-6f, 1000000.0, false, true, 1.0,
                0, 0, 0, 0, 0, false, 1.0, 1, 1, 0, 81);
    }

    /** Qwen3-30B-A3B's shape scaled down: 8 experts, top-2, norm_topk_prob, every layer routed, no shared expert. */
    public static Spec qwen3Moe() {
        return new Spec(Kind.QWEN3_MOE, 64, 2, 4, 2, 16, 96, 1024, 1e-6f, 1000000.0, false, true, 1.0,
                8, 2, 32, 0, 0, true, 1.0, 1, 1, 0, 82);
    }

    /**
     * GLM-4.5-Air's shape scaled down: q/k/v bias, half-head rotary, first layer dense, 8 routed experts (top-2) with
     * sigmoid gating and a selection bias, one shared expert, routed_scaling_factor 2.5, norm_topk_prob, one MTP block.
     */
    public static Spec glm45() {
        return new Spec(Kind.GLM4_MOE, 64, 3, 4, 2, 16, 96, 1024, 1e-5f, 10000.0, true, false, 0.5,
                8, 2, 32, 1, 1, true, 2.5, 1, 1, 1, 83);
    }

    /** {@link #glm45} with q/k norms ({@code use_qk_norm}, as GLM-4.6's config allows) and grouped top-k (4 groups, keep 2). */
    public static Spec glm45GroupedQkNorm() {
        Spec g = glm45();
        return new Spec(g.kind, g.dim, g.layers, g.heads, g.kvHeads, g.headDim, g.ffn, g.context, g.eps, g.theta, g.qkvBias,
                true, g.partialRotary, g.experts, g.used, g.expertFfn, g.shared, g.leadingDense, g.normTopk, g.scale, 4, 2,
                g.nextn, 84);
    }

    /** A tensor with its HF shape ({@code [out, in]}). */
    public record Named(float[] values, long[] shape) {
    }

    /** The ground truth: HF names and shapes, in a fixed order (MTP block last). */
    public static Map<String, Named> hfTensors(Spec s) {
        Random r = new Random(s.seed());
        Map<String, Named> m = new LinkedHashMap<>();
        int d = s.dim();
        double in = 1 / Math.sqrt(d);
        m.put("model.embed_tokens.weight", new Named(gaussian(r, s.vocab() * d, 1.0), shape(s.vocab(), d)));
        for (int l = 0; l < s.layers() + s.nextn(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new Named(around1(r, d), shape(d)));
            m.put(p + "self_attn.q_proj.weight", new Named(gaussian(r, s.qDim() * d, in), shape(s.qDim(), d)));
            m.put(p + "self_attn.k_proj.weight", new Named(gaussian(r, s.kvDim() * d, in), shape(s.kvDim(), d)));
            m.put(p + "self_attn.v_proj.weight", new Named(gaussian(r, s.kvDim() * d, in), shape(s.kvDim(), d)));
            if (s.qkvBias()) {
                m.put(p + "self_attn.q_proj.bias", new Named(gaussian(r, s.qDim(), 0.5), shape(s.qDim())));
                m.put(p + "self_attn.k_proj.bias", new Named(gaussian(r, s.kvDim(), 0.5), shape(s.kvDim())));
                m.put(p + "self_attn.v_proj.bias", new Named(gaussian(r, s.kvDim(), 0.5), shape(s.kvDim())));
            }
            if (s.qkNorm()) {
                m.put(p + "self_attn.q_norm.weight", new Named(around1(r, s.headDim()), shape(s.headDim())));
                m.put(p + "self_attn.k_norm.weight", new Named(around1(r, s.headDim()), shape(s.headDim())));
            }
            m.put(p + "self_attn.o_proj.weight", new Named(gaussian(r, d * s.qDim(), 1 / Math.sqrt(s.qDim())), shape(d, s.qDim())));
            m.put(p + "post_attention_layernorm.weight", new Named(around1(r, d), shape(d)));
            if (!s.moeLayer(l)) {
                m.put(p + "mlp.gate_proj.weight", new Named(gaussian(r, s.ffn() * d, in), shape(s.ffn(), d)));
                m.put(p + "mlp.up_proj.weight", new Named(gaussian(r, s.ffn() * d, in), shape(s.ffn(), d)));
                m.put(p + "mlp.down_proj.weight", new Named(gaussian(r, d * s.ffn(), 1 / Math.sqrt(s.ffn())), shape(d, s.ffn())));
            } else {
                // a sharp router so that top-k sets are clear-cut (no near ties between float and double)
                m.put(p + "mlp.gate.weight", new Named(gaussian(r, s.experts() * d, 3 * in), shape(s.experts(), d)));
                if (s.sigmoid()) m.put(p + "mlp.gate.e_score_correction_bias", new Named(gaussian(r, s.experts(), 0.3), shape(s.experts())));
                int f = s.expertFfn();
                for (int e = 0; e < s.experts(); e++) {
                    String x = p + "mlp.experts." + e + ".";
                    m.put(x + "gate_proj.weight", new Named(gaussian(r, f * d, in), shape(f, d)));
                    m.put(x + "up_proj.weight", new Named(gaussian(r, f * d, in), shape(f, d)));
                    m.put(x + "down_proj.weight", new Named(gaussian(r, d * f, 1 / Math.sqrt(f)), shape(d, f)));
                }
                if (s.shared() > 0) {
                    int sf = f * s.shared();
                    m.put(p + "mlp.shared_experts.gate_proj.weight", new Named(gaussian(r, sf * d, in), shape(sf, d)));
                    m.put(p + "mlp.shared_experts.up_proj.weight", new Named(gaussian(r, sf * d, in), shape(sf, d)));
                    m.put(p + "mlp.shared_experts.down_proj.weight", new Named(gaussian(r, d * sf, 1 / Math.sqrt(sf)), shape(d, sf)));
                }
            }
            if (l >= s.layers()) {
                // GLM-4.5's MTP block (modeling of the nextn layer in vLLM/SGLang; transformers leaves it unused)
                m.put(p + "eh_proj.weight", new Named(gaussian(r, d * 2 * d, in), shape(d, 2 * d)));
                m.put(p + "enorm.weight", new Named(around1(r, d), shape(d)));
                m.put(p + "hnorm.weight", new Named(around1(r, d), shape(d)));
                m.put(p + "shared_head.norm.weight", new Named(around1(r, d), shape(d)));
            }
        }
        m.put("model.norm.weight", new Named(around1(r, d), shape(d)));
        m.put("lm_head.weight", new Named(gaussian(r, s.vocab() * d, in), shape(s.vocab(), d)));
        return m;
    }

    /** The GGUF tensors (GGUF names, GGUF shape order) convert_hf_to_gguf.py writes for {@link #hfTensors}. */
    public static Map<String, Named> ggufTensors(Spec s, Map<String, Named> hf) {
        Map<String, Named> g = new LinkedHashMap<>();
        int d = s.dim();
        g.put("token_embd.weight", reversed(hf.get("model.embed_tokens.weight")));
        for (int l = 0; l < s.layers() + s.nextn(); l++) {
            String p = "model.layers." + l + ".", b = "blk." + l + ".";
            g.put(b + "attn_norm.weight", hf.get(p + "input_layernorm.weight"));
            for (String qkv : new String[]{"q", "k", "v"}) {
                g.put(b + "attn_" + qkv + ".weight", reversed(hf.get(p + "self_attn." + qkv + "_proj.weight")));
                if (s.qkvBias()) g.put(b + "attn_" + qkv + ".bias", hf.get(p + "self_attn." + qkv + "_proj.bias"));
            }
            if (s.qkNorm()) {
                g.put(b + "attn_q_norm.weight", hf.get(p + "self_attn.q_norm.weight"));
                g.put(b + "attn_k_norm.weight", hf.get(p + "self_attn.k_norm.weight"));
            }
            g.put(b + "attn_output.weight", reversed(hf.get(p + "self_attn.o_proj.weight")));
            // glm4moe: post_attention_layernorm -> post_attention_norm (tensor_mapping ATTN_POST_NORM); others ffn_norm
            g.put(b + (s.sigmoid() ? "post_attention_norm.weight" : "ffn_norm.weight"), hf.get(p + "post_attention_layernorm.weight"));
            if (!s.moeLayer(l)) {
                g.put(b + "ffn_gate.weight", reversed(hf.get(p + "mlp.gate_proj.weight")));
                g.put(b + "ffn_up.weight", reversed(hf.get(p + "mlp.up_proj.weight")));
                g.put(b + "ffn_down.weight", reversed(hf.get(p + "mlp.down_proj.weight")));
            } else {
                g.put(b + "ffn_gate_inp.weight", reversed(hf.get(p + "mlp.gate.weight")));
                if (s.sigmoid()) g.put(b + "exp_probs_b.bias", hf.get(p + "mlp.gate.e_score_correction_bias"));
                int f = s.expertFfn();
                g.put(b + "ffn_gate_exps.weight", stack(hf, p, "gate_proj", s.experts(), d, f));
                g.put(b + "ffn_up_exps.weight", stack(hf, p, "up_proj", s.experts(), d, f));
                g.put(b + "ffn_down_exps.weight", stack(hf, p, "down_proj", s.experts(), f, d));
                if (s.shared() > 0) {
                    g.put(b + "ffn_gate_shexp.weight", reversed(hf.get(p + "mlp.shared_experts.gate_proj.weight")));
                    g.put(b + "ffn_up_shexp.weight", reversed(hf.get(p + "mlp.shared_experts.up_proj.weight")));
                    g.put(b + "ffn_down_shexp.weight", reversed(hf.get(p + "mlp.shared_experts.down_proj.weight")));
                }
            }
            if (l >= s.layers()) {
                g.put(b + "nextn.eh_proj.weight", reversed(hf.get(p + "eh_proj.weight")));
                g.put(b + "nextn.enorm.weight", hf.get(p + "enorm.weight"));
                g.put(b + "nextn.hnorm.weight", hf.get(p + "hnorm.weight"));
                g.put(b + "nextn.shared_head_norm.weight", hf.get(p + "shared_head.norm.weight"));
            }
        }
        g.put("output_norm.weight", hf.get("model.norm.weight"));
        g.put("output.weight", reversed(hf.get("lm_head.weight")));
        return g;
    }

    private static Named stack(Map<String, Named> hf, String p, String which, int experts, int in, int out) {
        float[] all = new float[experts * in * out];
        for (int e = 0; e < experts; e++) {
            float[] v = hf.get(p + "mlp.experts." + e + "." + which + ".weight").values();
            System.arraycopy(v, 0, all, e * in * out, v.length);
        }
        return new Named(all, shape(in, out, experts));
    }

    private static Named reversed(Named n) {
        long[] r = new long[n.shape().length];
        for (int i = 0; i < r.length; i++) r[i] = n.shape()[r.length - 1 - i];
        return new Named(n.values(), r);
    }

    /** config.json with the keys of the real checkpoints (Qwen3-0.6B, Qwen3-30B-A3B, GLM-4.5-Air config.json). */
    public static ObjectNode hfConfig(Spec s) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(s.kind().hfClass);
        c.put("model_type", s.kind().modelType);
        c.put("attention_bias", s.qkvBias());
        c.put("attention_dropout", 0.0);
        c.put("head_dim", s.headDim());
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.dim());
        c.put("intermediate_size", s.ffn());
        c.put("max_position_embeddings", s.context());
        c.put("num_attention_heads", s.heads());
        c.put("num_hidden_layers", s.layers());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("rms_norm_eps", s.eps());
        c.put("rope_theta", s.theta());
        c.putNull("rope_scaling");
        c.put("tie_word_embeddings", false);
        c.put("vocab_size", s.vocab());
        c.put("torch_dtype", "float32");
        c.put("bos_token_id", ModelFixtures.BOS_ID);
        c.put("eos_token_id", ModelFixtures.EOS_ID);
        switch (s.kind()) {
            case QWEN3 -> {
                c.put("use_sliding_window", false);
                c.putNull("sliding_window");
            }
            case QWEN3_MOE -> {
                c.put("use_sliding_window", false);
                c.put("decoder_sparse_step", 1);
                c.putArray("mlp_only_layers");
                c.put("moe_intermediate_size", s.expertFfn());
                c.put("norm_topk_prob", s.normTopk());
                c.put("num_experts", s.experts());
                c.put("num_experts_per_tok", s.used());
                c.put("output_router_logits", false);
                c.put("router_aux_loss_coef", 0.001);
            }
            case GLM4_MOE -> {
                c.put("partial_rotary_factor", s.partialRotary());
                c.put("first_k_dense_replace", s.leadingDense());
                c.put("moe_intermediate_size", s.expertFfn());
                c.put("n_group", s.groups());
                c.put("topk_group", s.groupsUsed());
                c.put("n_routed_experts", s.experts());
                c.put("n_shared_experts", s.shared());
                c.put("norm_topk_prob", s.normTopk());
                c.put("num_experts_per_tok", s.used());
                c.put("num_nextn_predict_layers", s.nextn());
                c.put("routed_scaling_factor", s.scale());
                c.put("use_qk_norm", s.qkNorm());
            }
        }
        return c;
    }

    /**
     * GGUF metadata as convert_hf_to_gguf.py writes it: TextModel.set_gguf_parameters (block_count, context, embedding,
     * feed_forward, heads, rope base, eps, key/value length from head_dim, expert_count / expert_used_count), then
     * Qwen2MoeModel's expert_feed_forward_length, or Glm4MoeModel's rope dimension count, block count including the
     * MTP blocks, expert_feed_forward_length, expert_shared_count, leading_dense_block_count, expert_gating_func (2:
     * sigmoid), expert_weights_scale, expert_weights_norm, nextn_predict_layers.
     */
    public static LinkedHashMap<String, GgufValue> ggufMetadata(Spec s) {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        String a = s.kind().ggufArch;
        m.put("general.architecture", GgufValue.string(a));
        m.put("general.name", GgufValue.string("fixture-" + a));
        m.put(a + ".block_count", GgufValue.uint32(s.layers() + s.nextn()));
        m.put(a + ".context_length", GgufValue.uint32(s.context()));
        m.put(a + ".embedding_length", GgufValue.uint32(s.dim()));
        m.put(a + ".feed_forward_length", GgufValue.uint32(s.ffn()));
        m.put(a + ".attention.head_count", GgufValue.uint32(s.heads()));
        m.put(a + ".attention.head_count_kv", GgufValue.uint32(s.kvHeads()));
        m.put(a + ".rope.freq_base", GgufValue.float32((float) s.theta()));
        m.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.float32(s.eps()));
        m.put(a + ".attention.key_length", GgufValue.uint32(s.headDim()));
        m.put(a + ".attention.value_length", GgufValue.uint32(s.headDim()));
        if (s.moe()) {
            m.put(a + ".expert_count", GgufValue.uint32(s.experts()));
            m.put(a + ".expert_used_count", GgufValue.uint32(s.used()));
            m.put(a + ".expert_feed_forward_length", GgufValue.uint32(s.expertFfn()));
        }
        if (s.kind() == Kind.GLM4_MOE) {
            m.put(a + ".rope.dimension_count", GgufValue.uint32(s.rotaryDim()));
            m.put(a + ".expert_shared_count", GgufValue.uint32(s.shared()));
            m.put(a + ".leading_dense_block_count", GgufValue.uint32(s.leadingDense()));
            m.put(a + ".expert_gating_func", GgufValue.uint32(2));
            m.put(a + ".expert_weights_scale", GgufValue.float32((float) s.scale()));
            m.put(a + ".expert_weights_norm", GgufValue.bool(s.normTopk()));
            m.put(a + ".nextn_predict_layers", GgufValue.uint32(s.nextn()));
            if (s.groups() > 1) {
                m.put(a + ".expert_group_count", GgufValue.uint32(s.groups()));
                m.put(a + ".expert_group_used_count", GgufValue.uint32(s.groupsUsed()));
            }
        }
        m.put("general.file_type", GgufValue.uint32(0));
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("qwen2"));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, ModelFixtures.TOKENS));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < ModelFixtures.VOCAB_SIZE; i++) types.add(i >= ModelFixtures.FIRST_SPECIAL ? 3 : 1);
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, ModelFixtures.MERGES));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(ModelFixtures.BOS_ID));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(ModelFixtures.EOS_ID));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        m.put("tokenizer.chat_template", GgufValue.string(ModelFixtures.CHAT_TEMPLATE));
        return m;
    }

    /** Writes config.json, model.safetensors (F32), tokenizer.json and tokenizer_config.json. Returns {@code dir}. */
    public static Path writeHf(Spec s, Path dir) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter st = new SafetensorsWriter();
            for (var e : hfTensors(s).entrySet()) st.add(e.getKey(), e.getValue().shape(), "F32", e.getValue().values());
            st.write(dir.resolve("model.safetensors"));
            ObjectMapper om = new ObjectMapper();
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), hfConfig(s));
            om.writeValue(dir.resolve("tokenizer.json").toFile(),
                    ModelFixtures.byteLevelTokenizerJson(ModelFixtures.QWEN2_REGEX, ModelFixtures.TOKENS.subList(ModelFixtures.FIRST_SPECIAL, ModelFixtures.VOCAB_SIZE)));
            ObjectNode tc = om.createObjectNode();
            tc.put("bos_token", ModelFixtures.BOS);
            tc.put("eos_token", ModelFixtures.IM_END);
            tc.put("add_bos_token", false);
            tc.put("model_max_length", s.context());
            tc.put("chat_template", ModelFixtures.CHAT_TEMPLATE);
            tc.put("tokenizer_class", "PreTrainedTokenizerFast");
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the GGUF (weights in {@code type}; 1-D tensors and the router F32, as llama.cpp keeps them). */
    public static Path writeGguf(Spec s, Path file, GgmlType type) {
        GgufWriter g = new GgufWriter();
        ggufMetadata(s).forEach(g::put);
        g.putUint32("general.file_type", type == GgmlType.F32 ? 0 : type == GgmlType.F16 ? 1 : 7);
        for (var e : ggufTensors(s, hfTensors(s)).entrySet()) {
            boolean keepF32 = e.getValue().shape().length == 1 || e.getKey().contains("ffn_gate_inp");
            g.addTensor(e.getKey(), e.getValue().shape(), e.getValue().values(), keepF32 ? GgmlType.F32 : type);
        }
        g.write(file);
        return file;
    }

    public static Path writeGguf(Spec s, Path file) {
        return writeGguf(s, file, GgmlType.F32);
    }

    private static long[] shape(long... dims) {
        return dims;
    }

    private static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
        return v;
    }

    private static float[] around1(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1 + 0.1 * r.nextGaussian());
        return v;
    }
}
