package ai.autoglm.compress.prune;

import ai.autoglm.compress.EditedWeights;
import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.model.LowRankProjection;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured pruning that really shrinks the tensors: attention heads (rows of q/k/v, columns of the output projection,
 * fused q|k|v included) and MLP channels (rows of gate and up, fused gate|up included, columns of down), then
 * {@link LayerDropping}. The KV cache shrinks with the key/value groups, every matmul with its rows or columns.
 *
 * <p>GQA choice: heads go either as whole key/value groups ({@link StructuredPlan#kvGroupsToRemove}: the group's kv head
 * and all its query heads) or as query heads inside the groups, the same number from each
 * ({@link StructuredPlan#headsToRemove}), so the result is again uniform GQA with {@code heads % kvHeads == 0}. Uneven
 * groups would need a per-head group map neither this engine nor llama.cpp has. The head dimension stays, so
 * {@code attention.key_length} / {@code value_length} are written (embedding length / heads no longer gives it).
 *
 * <p>llama.cpp reads the new counts (llama-model.cpp {@code get_key_or_arr}, one value for all layers) and loads
 * head-pruned llama and glm4 files (q is {@code [n_embd, n_embd_head_k * n_head]}); its qwen2 and chatglm loaders
 * create q as {@code [n_embd, n_embd]}, so head-pruned files of those run in this engine only (MLP-pruned and
 * layer-dropped ones load everywhere). Its chatglm/glm4 graphs cut a fused {@code attn_qkv} at offset {@code n_embd}
 * (src/models/chatglm.cpp, glm4.cpp), which fewer heads break, so a head-pruned fused q|k|v is written as split q/k/v,
 * which both engines load for these architectures.
 */
public final class StructuredPruning {
    private StructuredPruning() {
    }

    /**
     * Head and channel surgery covers the dense block (q/k/v/o rows and columns, one MLP width); routed experts, their
     * router and the shared expert have no rule here yet, so an MoE model is refused rather than half pruned.
     */
    static void requireDense(GgufModel model) {
        if (model.config().moe() != null) {
            throw new UnsupportedOperationException("structured pruning is not supported for mixture-of-experts models ("
                    + model.config().architecture() + ")");
        }
    }

    /** {@link #select}, {@link #shrink}, then {@link LayerDropping#drop}. */
    public static GgufModel prune(GgufModel model, StructuredPlan plan, ActivationStatistics stats) {
        requireDense(model);
        GgufModel shrunk = plan.shrinksLayers() ? shrink(model, select(model, plan, stats)) : model;
        return LayerDropping.drop(shrunk, plan.dropLayers());
    }

    /** Per layer, the heads and channels with the highest {@link StructuralImportance} that the plan's counts allow. */
    public static List<LayerSelection> select(GgufModel model, StructuredPlan plan, ActivationStatistics stats) {
        requireDense(model);
        ModelConfig c = model.config();
        int group = c.heads() / c.kvHeads();
        int groupsRemoved = plan.kvGroupsToRemove() + (group == 1 ? plan.headsToRemove() : 0);
        int kvKeep = c.kvHeads() - groupsRemoved;
        if (kvKeep < 1) {
            throw new IllegalArgumentException("removing " + groupsRemoved + " key/value groups leaves none (the model has " + c.kvHeads() + ")");
        }
        int perGroupRemoved = 0;
        if (group > 1 && plan.headsToRemove() > 0) {
            if (plan.headsToRemove() % kvKeep != 0 || plan.headsToRemove() / kvKeep >= group) {
                throw new IllegalArgumentException("--heads " + plan.headsToRemove() + " must be a multiple of the " + kvKeep
                        + " key/value groups and below " + kvKeep * group + " (the same number of query heads leaves every group, so GQA stays uniform)");
            }
            perGroupRemoved = plan.headsToRemove() / kvKeep;
        }
        int headsPerGroup = group - perGroupRemoved;
        int ffnKeep = ffnChannelsToKeep(model, c, plan.ffnKeep());
        boolean headsChange = kvKeep < c.kvHeads() || headsPerGroup < group;

        List<LayerSelection> out = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            LayerSelection all = LayerSelection.all(c);
            boolean dropped = plan.dropLayers().contains(l); // removed anyway: any valid selection with the same counts
            int[] heads = all.keptHeads(), kv = all.keptKvHeads();
            if (headsChange) {
                double[] hs = dropped ? new double[c.heads()] : StructuralImportance.heads(model, stats, l);
                kv = topK(StructuralImportance.kvGroups(hs, c.kvHeads()), kvKeep);
                heads = new int[kvKeep * headsPerGroup];
                for (int gi = 0; gi < kv.length; gi++) {
                    int g = kv[gi];
                    int[] inGroup = topK(Arrays.copyOfRange(hs, g * group, (g + 1) * group), headsPerGroup);
                    for (int i = 0; i < headsPerGroup; i++) heads[gi * headsPerGroup + i] = g * group + inGroup[i];
                }
            }
            int[] ffn = ffnKeep == c.ffnDim() ? all.keptFfn()
                    : topK(dropped ? new double[c.ffnDim()] : StructuralImportance.ffnChannels(model, stats, l), ffnKeep);
            out.add(new LayerSelection(heads, kv, ffn));
        }
        return out;
    }

    /**
     * {@code round(ffn * keep)}, at least 1; when {@code ffn_down} is stored in a block type whose block divides the
     * width, rounded to whole blocks so the pruned rows can stay in that type.
     */
    static int ffnChannelsToKeep(GgufModel model, ModelConfig c, double keep) {
        int n = Math.max(1, (int) Math.round(c.ffnDim() * keep));
        if (n >= c.ffnDim()) return c.ffnDim();
        GgmlType t = EditedWeights.storageType(model.weights(), TensorRole.FFN_DOWN.tensorName(0));
        int b = t == null ? 1 : t.blockSize;
        if (b > 1 && c.ffnDim() % b == 0) n = Math.max(b, (int) Math.round((double) n / b) * b);
        return n;
    }

    /** Indices of the {@code k} highest scores, ascending (ties keep the lower index). */
    static int[] topK(double[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b));
        int[] top = new int[k];
        for (int i = 0; i < k; i++) top[i] = order[i];
        Arrays.sort(top);
        return top;
    }

    /** The model with only the selected heads and channels in each layer. Every layer must keep the same counts. */
    public static GgufModel shrink(GgufModel model, List<LayerSelection> selections) {
        requireDense(model);
        ModelConfig c = model.config();
        if (selections.size() != c.layers()) {
            throw new IllegalArgumentException(selections.size() + " layer selections for " + c.layers() + " layers");
        }
        LayerSelection first = selections.getFirst();
        for (int l = 0; l < selections.size(); l++) {
            LayerSelection s = selections.get(l);
            s.validate(c, l);
            if (s.keptHeads().length != first.keptHeads().length || s.keptKvHeads().length != first.keptKvHeads().length
                    || s.keptFfn().length != first.keptFfn().length) {
                throw new IllegalArgumentException("layer " + l + " keeps different head or channel counts than layer 0; "
                        + "the model config has one head count and one MLP width for all layers");
            }
        }
        WeightSource w = model.weights();
        EditedWeights out = EditedWeights.of(w);
        int hd = c.headDim();
        for (int l = 0; l < c.layers(); l++) {
            LayerSelection s = selections.get(l);
            int[] qRows = headRows(s.keptHeads(), hd), kvRows = headRows(s.keptKvHeads(), hd);
            // The layer's tensors are the architecture row's (Architecture.layerTensors), fused q|k|v when the file has it
            // as the engine decides; each role says which of its rows or columns follow the kept heads and channels.
            boolean fusedQkv = c.architecture().fusedQkv() && w.shape(TensorRole.ATTN_QKV.tensorName(l)) != null;
            List<int[]> qkvParts = List.of(qRows, offset(kvRows, c.qDim()), offset(kvRows, c.qDim() + c.kvDim()));
            for (Architecture.LayerTensor t : c.architecture().layerTensors(c, fusedQkv)) {
                String name = t.role().tensorName(l);
                switch (t.role()) {
                    // fused rows q (qDim) | k (kvDim) | v (kvDim): with every head kept, nothing to do. Otherwise split into
                    // q, k, v: llama.cpp's chatglm/glm4 graphs cut a fused attn_qkv at n_embd (src/models/chatglm.cpp), which
                    // no longer holds with fewer heads, while both engines load split q/k/v for these architectures.
                    case ATTN_QKV -> {
                        if (!headsKept(s, c)) splitRows(w, out, name, List.of(TensorRole.ATTN_Q.tensorName(l),
                                TensorRole.ATTN_K.tensorName(l), TensorRole.ATTN_V.tensorName(l)), qkvParts);
                    }
                    case ATTN_QKV_BIAS -> {
                        if (!headsKept(s, c)) splitRows(w, out, name, List.of(TensorRole.ATTN_Q_BIAS.tensorName(l),
                                TensorRole.ATTN_K_BIAS.tensorName(l), TensorRole.ATTN_V_BIAS.tensorName(l)), qkvParts);
                    }
                    case ATTN_Q, ATTN_Q_BIAS -> keepRows(w, out, name, qRows);
                    case ATTN_K, ATTN_V, ATTN_K_BIAS, ATTN_V_BIAS -> keepRows(w, out, name, kvRows);
                    case ATTN_OUT -> keepColumns(w, out, name, qRows);
                    case FFN_GATE -> keepRows(w, out, name, s.keptFfn());
                    case FFN_UP -> keepRows(w, out, name, c.architecture().fusedGateUp()
                            ? concat(s.keptFfn(), offset(s.keptFfn(), c.ffnDim())) : s.keptFfn()); // fused: gate | up
                    case FFN_DOWN -> keepColumns(w, out, name, s.keptFfn());
                    default -> { } // norms keep the model width
                }
            }
        }
        Map<String, GgufValue> md = new LinkedHashMap<>(model.metadata());
        md.put(GgufKeys.HEAD_COUNT.of(model.architecture()), GgufValue.uint32(first.keptHeads().length));
        md.put(GgufKeys.HEAD_COUNT_KV.of(model.architecture()), GgufValue.uint32(first.keptKvHeads().length));
        md.put(GgufKeys.KEY_LENGTH.of(model.architecture()), GgufValue.uint32(hd));
        md.put(GgufKeys.VALUE_LENGTH.of(model.architecture()), GgufValue.uint32(hd));
        md.put(GgufKeys.FEED_FORWARD_LENGTH.of(model.architecture()), GgufValue.uint32(first.keptFfn().length));
        return model.derive(md, out);
    }

    private static boolean headsKept(LayerSelection s, ModelConfig c) {
        return s.keptHeads().length == c.heads() && s.keptKvHeads().length == c.kvHeads();
    }

    /** Replaces fused tensor {@code name} by one tensor per part, each of the given rows (in place of the fused one). */
    private static void splitRows(WeightSource w, EditedWeights out, String name, List<String> parts, List<int[]> rows) {
        for (int i = 0; i < parts.size(); i++) {
            keepRows(w, out, name, rows.get(i));
            float[] values = EditedWeights.floats(out, name);
            out.put(parts.get(i), values, out.shape(name), EditedWeights.storageType(w, name));
        }
        out.remove(name);
    }

    private static int[] headRows(int[] heads, int hd) {
        int[] rows = new int[heads.length * hd];
        for (int i = 0; i < heads.length; i++) for (int j = 0; j < hd; j++) rows[i * hd + j] = heads[i] * hd + j;
        return rows;
    }

    private static int[] offset(int[] idx, int by) {
        int[] r = new int[idx.length];
        for (int i = 0; i < idx.length; i++) r[i] = idx[i] + by;
        return r;
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] r = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }

    /** Keeps rows {@code rows} (outputs) of tensor {@code name}; absent tensors (an optional bias) are skipped. */
    private static void keepRows(WeightSource w, EditedWeights out, String name, int[] rows) {
        long[] shape = w.shape(name);
        if (shape == null) {
            requireDense(w, name);
            return;
        }
        int rowLen = shape.length == 1 ? 1 : Math.toIntExact(shape[0]); // a bias: one value per output
        float[] src = EditedWeights.floats(w, name);
        float[] dst = new float[rows.length * rowLen];
        for (int i = 0; i < rows.length; i++) System.arraycopy(src, rows[i] * rowLen, dst, i * rowLen, rowLen);
        long[] newShape = shape.length == 1 ? new long[]{rows.length} : new long[]{rowLen, rows.length};
        out.put(name, dst, newShape, EditedWeights.storageType(w, name));
    }

    /** Keeps input columns {@code cols} of matrix {@code name}. */
    private static void keepColumns(WeightSource w, EditedWeights out, String name, int[] cols) {
        long[] shape = w.shape(name);
        if (shape == null) {
            requireDense(w, name);
            throw new IllegalArgumentException("missing tensor " + name);
        }
        int rowLen = Math.toIntExact(shape[0]), rows = Math.toIntExact(shape[1]);
        float[] src = EditedWeights.floats(w, name);
        float[] dst = new float[rows * cols.length];
        for (int r = 0; r < rows; r++) for (int i = 0; i < cols.length; i++) dst[r * cols.length + i] = src[r * rowLen + cols[i]];
        out.put(name, dst, new long[]{cols.length, rows}, EditedWeights.storageType(w, name));
    }

    private static void requireDense(WeightSource w, String name) {
        if (name.endsWith(".weight") && w.shape(LowRankProjection.factorA(name)) != null) {
            throw new IllegalArgumentException(name + " is stored as low-rank factors; prune heads and channels before factorising");
        }
    }
}
