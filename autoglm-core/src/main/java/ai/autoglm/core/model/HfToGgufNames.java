package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.HfLayout;
import ai.autoglm.core.model.TensorRole;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face tensor names to GGUF tensor names for one {@link HfLayout} of an {@link Architecture} row (the table
 * itself is data in {@code core.model}, in the shape of llama.cpp's {@code src/llama-arch.cpp} and gguf-py
 * {@code gguf/tensor_mapping.py}); this class is only the lookup. Both sides use one naming scheme: {@link TensorRole}
 * names and HF names carry {@code {bid}} for the block id.
 *
 * <p>A name maps when its base (the name without {@code .weight} / {@code .bias}, the suffixes tensor_mapping.py's
 * {@code get_name(try_suffixes=(".weight", ".bias"))} tries) is in the table; the suffix is carried over, so
 * {@code model.layers.3.self_attn.q_proj.bias} becomes {@code blk.3.attn_q.bias}.
 */
public final class HfToGgufNames {

    private record BlockRow(String prefix, String suffix, TensorRole role) {
    }

    /** A per-expert HF row: {@code prefix{bid}middle{xid}suffix}. */
    private record ExpertRow(String prefix, String middle, String suffix, TensorRole role) {
    }

    /** One expert's matrix of a stacked GGUF tensor: llama.cpp's converter stacks {@code mlp.experts.{xid}.*} by expert id. */
    public record ExpertTensor(String ggufName, int layer, int expert, TensorRole role) {
    }

    private final Architecture arch;
    private final HfLayout layout;
    private final Map<String, TensorRole> globalRows = new LinkedHashMap<>();
    private final List<BlockRow> blockRows = new ArrayList<>();
    private final List<ExpertRow> expertRows = new ArrayList<>();

    private HfToGgufNames(Architecture arch, HfLayout layout) {
        this.arch = arch;
        this.layout = layout;
        for (Map.Entry<TensorRole, String> row : layout.tensorNames().entrySet()) {
            String hf = row.getValue();
            int at = hf.indexOf(TensorRole.BID);
            int x = hf.indexOf(TensorRole.XID);
            if (x >= 0) {
                expertRows.add(new ExpertRow(hf.substring(0, at), hf.substring(at + TensorRole.BID.length(), x),
                        hf.substring(x + TensorRole.XID.length()), row.getKey()));
            } else if (at < 0) {
                globalRows.put(hf, row.getKey());
            } else {
                blockRows.add(new BlockRow(hf.substring(0, at), hf.substring(at + TensorRole.BID.length()), row.getKey()));
            }
        }
    }

    /** The table for {@code hfArchitecture} (e.g. {@code LlamaForCausalLM}), or null when no architecture row has it. */
    public static HfToGgufNames forArchitecture(String hfArchitecture) {
        Architecture a = Architecture.byHfClass(hfArchitecture);
        return a == null ? null : new HfToGgufNames(a, a.hfLayout(hfArchitecture));
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
            List<String> known = Architecture.ALL.stream().flatMap(a -> a.hfClasses().stream()).toList();
            throw new ModelFormatException(configFile, "unsupported architecture " + name + " (supported: " + known + ")");
        }
        return names;
    }

    /** The HF layout this table maps (class, model_type, q/k permutation, names, config keys). */
    public HfLayout architecture() {
        return layout;
    }

    /** The architecture row the layout belongs to. */
    public Architecture modelArchitecture() {
        return arch;
    }

    /** {@code general.architecture} of the GGUF ({@code llama}, {@code qwen2}). */
    public String ggufArchitecture() {
        return arch.ggufName();
    }

    /**
     * The stacked GGUF tensor and expert id of a per-expert HF tensor ({@code model.layers.3.mlp.experts.7.up_proj.weight}
     * is expert 7 of {@code blk.3.ffn_up_exps.weight}), or null when {@code hfName} is not one.
     */
    public ExpertTensor expertTensor(String hfName) {
        if (!hfName.endsWith(".weight")) return null;
        String base = hfName.substring(0, hfName.length() - ".weight".length());
        for (ExpertRow row : expertRows) {
            if (!base.startsWith(row.prefix()) || !base.endsWith(row.suffix())) continue;
            String mid = base.substring(row.prefix().length(), base.length() - row.suffix().length());
            int m = mid.indexOf(row.middle());
            if (m <= 0) continue;
            Integer layer = index(mid.substring(0, m)), expert = index(mid.substring(m + row.middle().length()));
            if (layer == null || expert == null) continue;
            return new ExpertTensor(row.role().tensorName(layer), layer, expert, row.role());
        }
        return null;
    }

    /** The HF name of expert {@code expert} of the stacked GGUF tensor of {@code role} in {@code layer}, or null. */
    public String expertHfName(TensorRole role, int layer, int expert) {
        String hf = layout.tensorNames().get(role);
        if (hf == null || !hf.contains(TensorRole.XID)) return null;
        return hf.replace(TensorRole.BID, Integer.toString(layer)).replace(TensorRole.XID, Integer.toString(expert)) + ".weight";
    }

    private static Integer index(String digits) {
        if (digits.isEmpty() || digits.length() > 6 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) return null;
        if (digits.length() > 1 && digits.charAt(0) == '0') return null;
        return Integer.parseInt(digits);
    }

    /** The GGUF name of an HF tensor, or null when the table has no row for it (per-expert tensors: {@link #expertTensor}). */
    public String toGguf(String hfName) {
        String suffix;
        if (hfName.endsWith(".weight")) suffix = ".weight";
        else if (hfName.endsWith(".bias")) suffix = ".bias";
        else return suffixless(hfName);
        String base = hfName.substring(0, hfName.length() - suffix.length());
        TensorRole global = globalRows.get(base);
        if (global != null) return global.base() + suffix;
        for (BlockRow row : blockRows) {
            if (!base.startsWith(row.prefix()) || !base.endsWith(row.suffix())) continue;
            int from = row.prefix().length(), to = base.length() - row.suffix().length();
            if (to <= from || to - from > 6) continue;
            String digits = base.substring(from, to);
            if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) continue;
            if (digits.length() > 1 && digits.charAt(0) == '0') continue;
            return row.role().base().replace(TensorRole.BID, Integer.toString(Integer.parseInt(digits))) + suffix;
        }
        return null;
    }

    /**
     * A row whose HF name is the whole tensor name, without {@code .weight}: GLM-4.5's
     * {@code mlp.gate.e_score_correction_bias}, which becomes the role's GGUF name with the role's suffix ({@code .bias}).
     */
    private String suffixless(String hfName) {
        for (BlockRow row : blockRows) {
            if (row.role().suffix().equals(".weight")) continue;
            if (!hfName.startsWith(row.prefix()) || !hfName.endsWith(row.suffix())) continue;
            Integer layer = index(hfName.substring(row.prefix().length(), hfName.length() - row.suffix().length()));
            if (layer != null) return row.role().tensorName(layer);
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
        for (Map.Entry<TensorRole, String> row : layout.tensorNames().entrySet()) {
            TensorRole t = row.getKey();
            if (!t.perLayer()) {
                if (t.base().equals(base)) return row.getValue() + suffix;
                continue;
            }
            int at = t.base().indexOf(TensorRole.BID);
            String pre = t.base().substring(0, at), post = t.base().substring(at + TensorRole.BID.length());
            if (!base.startsWith(pre) || !base.endsWith(post)) continue;
            int from = pre.length(), to = base.length() - post.length();
            if (to <= from || to - from > 6) continue;
            String digits = base.substring(from, to);
            if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) continue;
            if (row.getValue().contains(TensorRole.XID)) return null; // stacked experts: one HF tensor per expert (expertHfName)
            // a role of its own with a .bias suffix (exp_probs_b) has a whole HF name, without suffix
            if (!t.suffix().equals(".weight")) return suffix.equals(t.suffix()) ? row.getValue().replace(TensorRole.BID, digits) : null;
            return row.getValue().replace(TensorRole.BID, digits) + suffix;
        }
        return null;
    }
}
