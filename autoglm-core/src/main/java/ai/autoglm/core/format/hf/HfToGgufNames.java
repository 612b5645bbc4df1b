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
        ATTN_OUT("blk.%d.attn_output"),
        FFN_NORM("blk.%d.ffn_norm"),
        FFN_GATE("blk.%d.ffn_gate"),
        FFN_UP("blk.%d.ffn_up"),
        FFN_DOWN("blk.%d.ffn_down");

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
     * The supported architectures. llama: convert_hf_to_gguf.py {@code LlamaModel} (MODEL_ARCH.LLAMA, undo_permute = True);
     * qwen2: {@code Qwen2Model} (MODEL_ARCH.QWEN2, no permutation; Q/K/V carry biases, mapped through the same rows).
     */
    public static final List<Architecture> ARCHITECTURES = List.of(
            new Architecture("LlamaForCausalLM", "llama", true, LLAMA_STYLE),
            new Architecture("Qwen2ForCausalLM", "qwen2", false, LLAMA_STYLE));

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

    private static Map<Tensor, String> table(Object... pairs) {
        Map<Tensor, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((Tensor) pairs[i], (String) pairs[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
