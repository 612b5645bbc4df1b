package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ai.autoglm.core.quant.QuantizationPlan.lower;

/**
 * llama.cpp's choice of a type per tensor (src/llama-quant.cpp), for the presets of {@link QuantPreset}:
 * <ol>
 *   <li>order: by layer ({@code blk.N.}), then by name; tensors outside the blocks first (llama_model_loader's
 *       {@code weight_name_comparer}, the order llama-quantize writes and counts layers in);</li>
 *   <li>{@code tensor_allows_quantization}: only tensors of 2 or more dimensions whose name ends in {@code weight}, no
 *       {@code _norm.weight}, no positional / token-type embeddings: the rest keep their stored type;</li>
 *   <li>{@code --tensor-type} overrides: the first regex found in the name sets the type and skips the mix rules;</li>
 *   <li>{@code llama_tensor_get_type_impl}, the cases reachable from these presets: the output head (and the token
 *       embeddings when tied to it) gets Q6_K unless the preset is Q8_0, or Q8_0 when its rows are not whole blocks of
 *       the default type; for Q4_K_M/Q5_K_M {@code attn_v}/{@code attn_qkv} and {@code ffn_down} get Q6_K in the
 *       layers {@code use_more_bits} picks (the first and last eighth, and every third in between); Q4_K_S gives the
 *       first 4 attn_v and the first eighth of ffn_down Q5_K; a 70B llama's attn_v goes from Q4_K to Q5_K; with an
 *       imatrix, Q4_0/Q5_0 give the first eighth of ffn_down Q4_1/Q5_1;</li>
 *   <li>{@code tensor_type_fallback}: rows that are not whole blocks fall back Q4_K -> Q5_0, Q5_K -> Q5_1,
 *       Q6_K -> Q8_0, and to F16 when even 32 does not divide them.</li>
 * </ol>
 * A source tensor that is already quantized can only be kept as it is (llama-quantize refuses to requantize by
 * default; so do we).
 */
public final class QuantizationPlanner {
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private QuantizationPlanner() {
    }

    /** The layer of {@code blk.N.*} tensors, -1 for the others (sscanf "blk.%d." in weight_name_comparer). */
    static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        if (!m.find()) return -1;
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** llama.cpp's tensor order. */
    public static final Comparator<String> LLAMA_ORDER = Comparator.<String>comparingInt(QuantizationPlanner::layerOf)
            .thenComparing(Comparator.naturalOrder());

    /** The plan for {@code model} under {@code options}. */
    public static QuantizationPlan plan(ModelShape model, QuantizationOptions options) {
        List<TensorDescriptor> tensors = new ArrayList<>(model.tensors());
        tensors.sort(Comparator.comparing(TensorDescriptor::name, LLAMA_ORDER));
        Counters c = new Counters(model, options);
        for (TensorDescriptor t : tensors) {
            TensorCategory cat = TensorCategory.of(t.name());
            if (cat.isAttentionV()) c.nAttentionV++;
            if (cat == TensorCategory.FFN_DOWN) c.nFfnDown++;
            if (cat == TensorCategory.OUTPUT) c.tiedEmbeddings = false;
        }
        List<PlannedTensor> out = new ArrayList<>();
        for (TensorDescriptor t : tensors) out.add(planOne(t, c));
        return new QuantizationPlan(options, out);
    }

    /** quantize_state_impl: the counters llama.cpp advances as it walks the tensors. */
    private static final class Counters {
        final ModelShape model;
        final QuantizationOptions options;
        int nAttentionV, iAttentionV, iFfnDown, nFfnDown;
        boolean tiedEmbeddings = true; // assumed until output.weight is seen

        Counters(ModelShape model, QuantizationOptions options) {
            this.model = model;
            this.options = options;
        }
    }

    /** ggml_n_dims: dimensions up to the last one that is not 1. */
    static int dims(long[] shape) {
        int n = shape.length;
        while (n > 1 && shape[n - 1] == 1) n--;
        return n;
    }

    /** Why {@code t} is not quantized (tensor_allows_quantization), or null when it may be. */
    static String keepReason(TensorDescriptor t) {
        String name = t.name();
        if (dims(t.shape()) < 2) return "1-D tensor: kept (llama.cpp quantizes 2-D and 3-D tensors only)";
        if (!name.endsWith("weight")) return "not a weight: kept";
        if (name.contains("_norm.weight")) return "norm: kept";
        if (name.contains("ffn_gate_inp.weight")) return "expert router: kept";
        if (name.equals("position_embd.weight") || name.equals("token_types.weight")) return "position / token-type embedding: kept";
        if (name.contains("ssm_conv1d") || name.contains("attn_rel_b.weight")) return "small special tensor: kept";
        return null;
    }

    private static PlannedTensor planOne(TensorDescriptor t, Counters c) {
        String keep = keepReason(t);
        if (keep != null) return new PlannedTensor(t.name(), t.shape(), t.type(), t.type(), keep);

        QuantPreset preset = c.options.preset();
        Choice ch = new Choice(preset.defaultType, "default type of " + preset);
        boolean manual = false;
        for (TensorTypeOverride o : c.options.overrides()) {
            if (o.matches(t.name())) {
                ch.set(o.type(), "--tensor-type " + o);
                manual = true;
                break;
            }
        }
        if (!manual) mixRules(t, TensorCategory.of(t.name()), c, ch);
        fallback(t, ch);

        if (isQuantized(t.type()) && t.type() != ch.type) {
            throw new IllegalArgumentException("tensor " + t.name() + " is already " + t.type() + "; requantizing to " + ch.type
                    + " is not supported (quantize from an F32, F16 or BF16 model)");
        }
        return new PlannedTensor(t.name(), t.shape(), t.type(), ch.type, ch.reason);
    }

    static boolean isQuantized(GgmlType t) {
        return t.blockSize > 1;
    }

    /** The type being decided and the reasons so far. */
    private static final class Choice {
        GgmlType type;
        String reason;

        Choice(GgmlType type, String reason) {
            this.type = type;
            this.reason = reason;
        }

        void set(GgmlType type, String reason) {
            this.type = type;
            this.reason = reason;
        }
    }

    /** use_more_bits: the first and last eighth of the layers and every third one in between. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** llama_tensor_get_type_impl, restricted to the branches our presets reach. */
    private static void mixRules(TensorDescriptor t, TensorCategory cat, Counters c, Choice ch) {
        QuantPreset p = c.options.preset();
        if (cat == TensorCategory.OUTPUT || (c.tiedEmbeddings && cat == TensorCategory.TOKEN_EMBD)) {
            String what = cat == TensorCategory.OUTPUT ? "output head" : "token embeddings tied to the output head";
            long nx = t.shape()[0];
            if (nx % ch.type.blockSize != 0) {
                ch.set(GgmlType.Q8_0, what + ": q8_0 (row length " + nx + " is not a multiple of the " + lower(ch.type)
                        + " block of " + ch.type.blockSize + ")");
            } else if (ch.type != GgmlType.Q8_0) {
                ch.set(GgmlType.Q6_K, what + ": q6_k (llama.cpp keeps the output head at 6 bits)");
            } else {
                ch.reason = what + ": q8_0 as the preset";
            }
        } else if (cat == TensorCategory.TOKEN_EMBD) {
            ch.reason = "token embeddings: " + ch.reason;
        } else if (cat.isAttentionV()) {
            int i = c.iAttentionV, n = c.nAttentionV;
            if ((p == QuantPreset.Q4_K_M || p == QuantPreset.Q5_K_M) && useMoreBits(i, n)) {
                ch.set(GgmlType.Q6_K, "attn_v " + i + " of " + n + ": q6_k (" + p + " gives the first and last eighth and every third layer more bits)");
            } else if (p == QuantPreset.Q4_K_S && i < 4) {
                ch.set(GgmlType.Q5_K, "attn_v " + i + ": q5_k (q4_k_s: first 4 attn_v)");
            }
            boolean llama70b = c.model.architecture().equals("llama") && c.model.layers() == 80 && c.model.heads() != c.model.kvHeads();
            if (llama70b && (ch.type == GgmlType.Q3_K || ch.type == GgmlType.Q4_K)) {
                ch.set(GgmlType.Q5_K, "attn_v of a 70B llama (8 heads share it): q5_k");
            }
            if (c.model.experts() == 8) ch.set(GgmlType.Q8_0, "attn_v of an 8-expert model: q8_0 (llama.cpp: \"trades just ~128MB\")");
            c.iAttentionV++;
        } else if (cat == TensorCategory.ATTENTION_K && c.model.experts() == 8) {
            ch.set(GgmlType.Q8_0, "attn_k of an 8-expert model: q8_0 (llama.cpp: \"trades just ~128MB\")");
        } else if (cat == TensorCategory.FFN_DOWN) {
            // layer_info: with experts (n_expert > 1) the layer is parsed from the name ("blk.%d.") and the count is every
            // ffn_down tensor (ffn_down, ffn_down_exps, ffn_down_shexp: n_ffn_down); otherwise the running index over the layers
            boolean moe = c.model.experts() > 1 && layerOf(t.name()) >= 0;
            int i = moe ? layerOf(t.name()) : c.iFfnDown, n = moe ? c.nFfnDown : c.model.layers();
            if (p == QuantPreset.Q4_K_M && useMoreBits(i, n)) {
                ch.set(GgmlType.Q6_K, "ffn_down of layer " + i + " of " + n + ": q6_k (q4_k_m gives the first and last eighth and every third layer more bits)");
            } else if (p == QuantPreset.Q5_K_M && useMoreBits(i, n)) {
                ch.set(GgmlType.Q6_K, "ffn_down of layer " + i + " of " + n + ": q6_k (q5_k_m gives the first and last eighth and every third layer more bits)");
            } else if (p == QuantPreset.Q4_K_S && i < n / 8) {
                ch.set(GgmlType.Q5_K, "ffn_down of layer " + i + " of " + n + ": q5_k (q4_k_s: first eighth of the layers)");
            } else if ((p == QuantPreset.Q4_0 || p == QuantPreset.Q5_0) && c.options.withImatrix() && i < n / 8) {
                GgmlType t1 = p == QuantPreset.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1;
                ch.set(t1, "ffn_down of layer " + i + " of " + n + ": " + lower(t1) + " (with an imatrix, llama.cpp guards the first eighth against outliers)");
            }
            c.iFfnDown++;
        }
    }

    /** tensor_type_fallback: rows that are not whole blocks of the chosen type. */
    private static void fallback(TensorDescriptor t, Choice ch) {
        long ncols = t.shape()[0];
        if (ncols % ch.type.blockSize == 0) return;
        GgmlType from = ch.type;
        GgmlType to = switch (from) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            default -> GgmlType.F16;
        };
        if (ncols % to.blockSize != 0) to = GgmlType.F16;
        ch.set(to, ch.reason + "; row length " + ncols + " is not a multiple of " + from.blockSize + ": " + lower(from) + " -> "
                + lower(to) + " fall-back");
    }
}
