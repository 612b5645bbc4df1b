package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.ModelFormatException;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face tensor names to GGUF tensor names, one data table per architecture, in the shape of llama.cpp's
 * {@code src/llama-arch.cpp} (LLM_TENSOR_NAMES: which tensors an architecture has) and gguf-py
 * {@code gguf/constants.py} (TENSOR_NAMES, MODEL_TENSORS) + {@code gguf/tensor_mapping.py} (TensorNameMap: the HF names
 * each GGUF tensor comes from). Adding an architecture (the GLM family, say) is adding a row to {@link #ARCHITECTURES}
 * with its table; the lookup code does not change.
 *
 * <p>A name maps when its base (the name without {@code .weight} / {@code .bias}, the suffixes tensor_mapping.py's
 * {@code get_name(try_suffixes=(".weight", ".bias"))} tries) is in the table; the suffix is carried over, so
 * {@code model.layers.3.self_attn.q_proj.bias} becomes {@code blk.3.attn_q.bias}.
 */
public final class HfToGgufNames {

    /** GGUF tensor names (gguf-py constants.py TENSOR_NAMES; {@code %d} is the block id). */
    public enum Tensor {
        TOKEN_EMBD("token_embd"),
        OUTPUT_NORM("output_norm"),
        OUTPUT("output"),
        ROPE_FREQS("rope_freqs"),
        ATTN_NORM("blk.%d.attn_norm"),
        ATTN_Q("blk.%d.attn_q"),
        ATTN_K("blk.%d.attn_k"),
        ATTN_V("blk.%d.attn_v"),
        ATTN_QKV("blk.%d.attn_qkv"),
        ATTN_OUT("blk.%d.attn_output"),
        ATTN_POST_NORM("blk.%d.post_attention_norm"),
        FFN_NORM("blk.%d.ffn_norm"),
        FFN_GATE("blk.%d.ffn_gate"),
        FFN_UP("blk.%d.ffn_up"),
        FFN_DOWN("blk.%d.ffn_down"),
        FFN_POST_NORM("blk.%d.post_ffw_norm");

        /** The name template, without suffix. */
        public final String template;

        Tensor(String template) {
            this.template = template;
        }

        public boolean perBlock() {
            return template.contains("%d");
        }

        /** The GGUF name of this tensor in block {@code bid} (ignored for global tensors), with {@code suffix}. */
        public String name(int bid, String suffix) {
            return (perBlock() ? template.formatted(bid) : template) + suffix;
        }
    }

    /**
     * One architecture: the {@code architectures[0]} value of config.json, the {@code general.architecture} GGUF value,
     * whether llama.cpp's converter permutes Q/K rows for it (LlamaModel.undo_permute), and its name table (HF base name,
     * {@code {bid}} for the block id, to GGUF tensor).
     */
    public record Architecture(String hfArchitecture, String ggufArchitecture, boolean permuteQK, Map<Tensor, String> hfNames) {
    }

    /** Llama-style decoder (HF modeling_llama.py / modeling_qwen2.py module names; tensor_mapping.py rows). */
    private static final Map<Tensor, String> LLAMA_STYLE = table(
            Tensor.TOKEN_EMBD, "model.embed_tokens",
            Tensor.OUTPUT_NORM, "model.norm",
            Tensor.OUTPUT, "lm_head",
            Tensor.ATTN_NORM, "model.layers.{bid}.input_layernorm",
            Tensor.ATTN_Q, "model.layers.{bid}.self_attn.q_proj",
            Tensor.ATTN_K, "model.layers.{bid}.self_attn.k_proj",
            Tensor.ATTN_V, "model.layers.{bid}.self_attn.v_proj",
            Tensor.ATTN_OUT, "model.layers.{bid}.self_attn.o_proj",
            Tensor.FFN_NORM, "model.layers.{bid}.post_attention_layernorm",
            Tensor.FFN_GATE, "model.layers.{bid}.mlp.gate_proj",
            Tensor.FFN_UP, "model.layers.{bid}.mlp.up_proj",
            Tensor.FFN_DOWN, "model.layers.{bid}.mlp.down_proj");

    /**
     * Remote-code ChatGLM3 / GLM-4 (THUDM modeling_chatglm.py module names; tensor_mapping.py rows marked "chatglm"):
     * fused {@code query_key_value} (rows q|k|v, with bias when add_qkv_bias) and fused {@code dense_h_to_4h} (gate|up)
     * kept fused, as convert_hf_to_gguf.py ChatGLMModel writes them.
     */
    private static final Map<Tensor, String> CHATGLM_STYLE = table(
            Tensor.TOKEN_EMBD, "transformer.embedding.word_embeddings",
            Tensor.OUTPUT_NORM, "transformer.encoder.final_layernorm",
            Tensor.OUTPUT, "transformer.output_layer",
            Tensor.ATTN_NORM, "transformer.encoder.layers.{bid}.input_layernorm",
            Tensor.ATTN_QKV, "transformer.encoder.layers.{bid}.self_attention.query_key_value",
            Tensor.ATTN_OUT, "transformer.encoder.layers.{bid}.self_attention.dense",
            Tensor.FFN_NORM, "transformer.encoder.layers.{bid}.post_attention_layernorm",
            Tensor.FFN_UP, "transformer.encoder.layers.{bid}.mlp.dense_h_to_4h",
            Tensor.FFN_DOWN, "transformer.encoder.layers.{bid}.mlp.dense_4h_to_h");

    /** transformers GlmForCausalLM (modeling_glm.py): llama names with the fused {@code mlp.gate_up_proj} as ffn_up. */
    private static final Map<Tensor, String> GLM_STYLE = table(
            Tensor.TOKEN_EMBD, "model.embed_tokens",
            Tensor.OUTPUT_NORM, "model.norm",
            Tensor.OUTPUT, "lm_head",
            Tensor.ATTN_NORM, "model.layers.{bid}.input_layernorm",
            Tensor.ATTN_Q, "model.layers.{bid}.self_attn.q_proj",
            Tensor.ATTN_K, "model.layers.{bid}.self_attn.k_proj",
            Tensor.ATTN_V, "model.layers.{bid}.self_attn.v_proj",
            Tensor.ATTN_OUT, "model.layers.{bid}.self_attn.o_proj",
            Tensor.FFN_NORM, "model.layers.{bid}.post_attention_layernorm",
            Tensor.FFN_UP, "model.layers.{bid}.mlp.gate_up_proj",
            Tensor.FFN_DOWN, "model.layers.{bid}.mlp.down_proj");

    /** transformers Glm4ForCausalLM (modeling_glm4.py): GLM_STYLE plus the sandwich norms (tensor_mapping.py "glm-4-0414"). */
    private static final Map<Tensor, String> GLM4_STYLE = with(GLM_STYLE,
            Tensor.ATTN_POST_NORM, "model.layers.{bid}.post_self_attn_layernorm",
            Tensor.FFN_POST_NORM, "model.layers.{bid}.post_mlp_layernorm");

    /**
     * The supported architectures. llama: convert_hf_to_gguf.py {@code LlamaModel} (MODEL_ARCH.LLAMA, undo_permute = True);
     * qwen2: {@code Qwen2Model} (MODEL_ARCH.QWEN2, no permutation; Q/K/V carry biases, mapped through the same rows).
     */
    public static final List<Architecture> ARCHITECTURES = List.of(
            new Architecture("LlamaForCausalLM", "llama", true, LLAMA_STYLE),
            new Architecture("Qwen2ForCausalLM", "qwen2", false, LLAMA_STYLE),
            // convert_hf_to_gguf.py: @ModelBase.register("GlmForCausalLM", "ChatGLMModel", "ChatGLMForConditionalGeneration")
            // class ChatGLMModel (MODEL_ARCH.CHATGLM); @ModelBase.register("Glm4ForCausalLM", ...) class Glm4Model (GLM4).
            new Architecture("ChatGLMModel", "chatglm", false, CHATGLM_STYLE),
            new Architecture("ChatGLMForConditionalGeneration", "chatglm", false, CHATGLM_STYLE),
            new Architecture("GlmForCausalLM", "chatglm", false, GLM_STYLE),
            new Architecture("Glm4ForCausalLM", "glm4", false, GLM4_STYLE));

    private record BlockRow(String prefix, String suffix, Tensor tensor) {
    }

    private final Architecture arch;
    private final Map<String, Tensor> globalRows = new LinkedHashMap<>();
    private final List<BlockRow> blockRows = new ArrayList<>();

    private HfToGgufNames(Architecture arch) {
        this.arch = arch;
        for (Map.Entry<Tensor, String> row : arch.hfNames().entrySet()) {
            String hf = row.getValue();
            int at = hf.indexOf("{bid}");
            if (at < 0) {
                globalRows.put(hf, row.getKey());
            } else {
                blockRows.add(new BlockRow(hf.substring(0, at), hf.substring(at + "{bid}".length()), row.getKey()));
            }
        }
    }

    /** The table for {@code hfArchitecture} (e.g. {@code LlamaForCausalLM}), or null when unsupported. */
    public static HfToGgufNames forArchitecture(String hfArchitecture) {
        for (Architecture a : ARCHITECTURES) {
            if (a.hfArchitecture().equals(hfArchitecture)) return new HfToGgufNames(a);
        }
        return null;
    }

    /** The table for a config.json ({@code architectures[0]}); {@link ModelFormatException} when missing or unsupported. */
    public static HfToGgufNames forConfig(Path configFile, JsonNode config) {
        JsonNode archs = config.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
            throw new ModelFormatException(configFile, "has no \"architectures\" list naming the model class");
        }
        String name = archs.get(0).asText();
        HfToGgufNames names = forArchitecture(name);
        if (names == null) {
            List<String> known = ARCHITECTURES.stream().map(Architecture::hfArchitecture).toList();
            throw new ModelFormatException(configFile, "unsupported architecture " + name + " (supported: " + known + ")");
        }
        return names;
    }

    public Architecture architecture() {
        return arch;
    }

    /** {@code general.architecture} of the GGUF ({@code llama}, {@code qwen2}). */
    public String ggufArchitecture() {
        return arch.ggufArchitecture();
    }

    /** The GGUF name of an HF tensor, or null when the table has no row for it. */
    public String toGguf(String hfName) {
        String suffix;
        if (hfName.endsWith(".weight")) suffix = ".weight";
        else if (hfName.endsWith(".bias")) suffix = ".bias";
        else return null;
        String base = hfName.substring(0, hfName.length() - suffix.length());
        Tensor global = globalRows.get(base);
        if (global != null) return global.name(0, suffix);
        for (BlockRow row : blockRows) {
            if (!base.startsWith(row.prefix()) || !base.endsWith(row.suffix())) continue;
            int from = row.prefix().length(), to = base.length() - row.suffix().length();
            if (to <= from || to - from > 6) continue;
            String digits = base.substring(from, to);
            if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) continue;
            if (digits.length() > 1 && digits.charAt(0) == '0') continue;
            return row.tensor().name(Integer.parseInt(digits), suffix);
        }
        return null;
    }

    /** The HF name of a GGUF tensor, or null when the table has no row for it. */
    public String toHf(String ggufName) {
        String suffix;
        if (ggufName.endsWith(".weight")) suffix = ".weight";
        else if (ggufName.endsWith(".bias")) suffix = ".bias";
        else return null;
        String base = ggufName.substring(0, ggufName.length() - suffix.length());
        for (Map.Entry<Tensor, String> row : arch.hfNames().entrySet()) {
            Tensor t = row.getKey();
            if (!t.perBlock()) {
                if (t.template.equals(base)) return row.getValue() + suffix;
                continue;
            }
            int at = t.template.indexOf("%d");
            String pre = t.template.substring(0, at), post = t.template.substring(at + 2);
            if (!base.startsWith(pre) || !base.endsWith(post)) continue;
            int from = pre.length(), to = base.length() - post.length();
            if (to <= from || to - from > 6) continue;
            String digits = base.substring(from, to);
            if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) continue;
            return row.getValue().replace("{bid}", digits) + suffix;
        }
        return null;
    }

    private static Map<Tensor, String> with(Map<Tensor, String> base, Object... pairs) {
        Map<Tensor, String> m = new LinkedHashMap<>(base);
        m.putAll(table(pairs));
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Map<Tensor, String> table(Object... pairs) {
        Map<Tensor, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((Tensor) pairs[i], (String) pairs[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
