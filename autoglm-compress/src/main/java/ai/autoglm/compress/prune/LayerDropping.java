package ai.autoglm.compress.prune;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.model.WeightSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes whole blocks: the remaining {@code blk.N.*} tensors are renumbered 0.. in order, {@code <arch>.block_count}
 * is lowered, and per-layer metadata arrays (llama.cpp reads e.g. {@code head_count} or {@code feed_forward_length}
 * as an array of one value per layer, llama-model.cpp {@code get_key_or_arr}) lose the dropped layers' entries.
 * Tensors keep their bytes (they are renamed, not rewritten).
 */
public final class LayerDropping {
    private static final Pattern BLOCK_TENSOR = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    private LayerDropping() {
    }

    public static GgufModel drop(GgufModel model, Set<Integer> layers) {
        if (!layers.isEmpty() && model.config().moe() != null) {
            // block_count, leading_dense_block_count and the MTP blocks after the last layer would all need renumbering
            throw new UnsupportedOperationException("dropping layers is not supported for mixture-of-experts models (" + model.config().architecture() + ")");
        }
        if (layers.isEmpty()) return model;
        String countKey = GgufKeys.BLOCK_COUNT.of(model.architecture());
        GgufValue countValue = model.metadata().get(countKey);
        if (countValue == null) throw new IllegalArgumentException("missing metadata key " + countKey);
        int n = Math.toIntExact(countValue.asLong());
        for (int l : layers) {
            if (l < 0 || l >= n) throw new IllegalArgumentException("--drop-layers: layer " + l + " does not exist (the model has layers 0.." + (n - 1) + ")");
        }
        if (layers.size() >= n) throw new IllegalArgumentException("--drop-layers would drop all " + n + " layers; at least one must stay");
        int[] newIndex = new int[n];
        for (int l = 0, next = 0; l < n; l++) newIndex[l] = layers.contains(l) ? -1 : next++;

        WeightSource weights = model.weights();
        EditedWeights out = EditedWeights.empty(weights);
        for (String name : weights.names()) {
            Matcher m = BLOCK_TENSOR.matcher(name);
            if (!m.matches()) {
                out.passThrough(name, name);
                continue;
            }
            int l = Integer.parseInt(m.group(1));
            if (l >= n) throw new IllegalArgumentException("tensor " + name + " belongs to block " + l + " but the model has " + n);
            if (newIndex[l] >= 0) out.passThrough("blk." + newIndex[l] + "." + m.group(2), name);
        }

        Map<String, GgufValue> md = new LinkedHashMap<>(model.metadata());
        String prefix = model.architecture() + ".";
        for (Map.Entry<String, GgufValue> e : md.entrySet()) {
            GgufValue v = e.getValue();
            if (e.getKey().startsWith(prefix) && v.type() == GgufValueType.ARRAY && v.asList().size() == n) {
                List<Object> all = v.asList();
                List<Object> kept = new java.util.ArrayList<>();
                for (int l = 0; l < n; l++) if (newIndex[l] >= 0) kept.add(all.get(l));
                e.setValue(GgufValue.array(v.elementType(), kept));
            }
        }
        md.put(countKey, GgufValue.uint32(n - layers.size()));
        return model.derive(md, out);
    }
}
