package ai.autoglm.core.quant;

import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.model.WeightSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What llama.cpp's type rules read of a model: the architecture, the layer count ({@code <arch>.block_count}, which
 * the ffn_down rules divide into eighths), the head counts (the 70B rule), the routed expert count
 * ({@code <arch>.expert_count}, hparams.n_expert: the 8-expert rule and the per-name layer of expert tensors; 0 for a
 * dense model) and the tensors.
 */
public record ModelShape(String architecture, int layers, int heads, int kvHeads, int experts, List<TensorDescriptor> tensors) {

    public ModelShape {
        tensors = List.copyOf(tensors);
    }

    /** A dense model. */
    public ModelShape(String architecture, int layers, int heads, int kvHeads, List<TensorDescriptor> tensors) {
        this(architecture, layers, heads, kvHeads, 0, tensors);
    }

    /** From GGUF metadata and the weights (names, shapes and stored types). */
    public static ModelShape of(Map<String, GgufValue> metadata, WeightSource weights) {
        GgufValue archValue = metadata.get(GgufKeys.ARCHITECTURE);
        String arch = archValue == null ? "" : String.valueOf(archValue.value());
        List<TensorDescriptor> tensors = new ArrayList<>();
        for (String name : weights.names()) tensors.add(new TensorDescriptor(name, weights.shape(name), weights.tensor(name).type()));
        int layers = intValue(metadata, GgufKeys.BLOCK_COUNT.of(arch));
        if (layers <= 0) layers = countLayers(tensors);
        return new ModelShape(arch, layers, intValue(metadata, GgufKeys.HEAD_COUNT.of(arch)),
                intValue(metadata, GgufKeys.HEAD_COUNT_KV.of(arch)), intValue(metadata, GgufKeys.EXPERT_COUNT.of(arch)), tensors);
    }

    private static int intValue(Map<String, GgufValue> metadata, String key) {
        GgufValue v = metadata.get(key);
        if (v == null || !(v.value() instanceof Number n)) return 0; // absent, or a per-layer array
        long l = n.longValue();
        return l > 0 && l < Integer.MAX_VALUE ? (int) l : 0;
    }

    /** 1 + the largest {@code blk.N.} index, for files without block_count. */
    private static int countLayers(List<TensorDescriptor> tensors) {
        int max = -1;
        for (TensorDescriptor t : tensors) max = Math.max(max, QuantizationPlanner.layerOf(t.name()));
        return max + 1;
    }
}
