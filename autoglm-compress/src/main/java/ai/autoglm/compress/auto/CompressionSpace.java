package ai.autoglm.compress.auto;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.search.Candidate;
import ai.autoglm.compress.search.Dimension;
import ai.autoglm.compress.search.SearchSpace;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The search space {@code autoglm compress} explores for one model: a storage type for each of three tensor groups
 * (attention, MLP, embeddings/output head) and a structured MLP keep ratio. Small on purpose (at most 6 x 6 x 6 x 3 =
 * 648 points), so random or Bayesian search learns something useful in 10-30 trials, each of which really builds and
 * measures a model.
 *
 * <p>A type is offered for a group only when every matrix of the group, except {@code ffn_down}, has rows of whole
 * blocks of it (llama.cpp's quantizers work on whole blocks per row). {@code ffn_down}'s rows are the MLP width, which
 * pruning changes; when they are not whole blocks, the quantization planner applies llama.cpp's
 * {@code tensor_type_fallback} (q4_k -> q5_0, q6_k -> q8_0, ...), as llama-quantize does.
 *
 * <p>Keep ratios become channel counts rounded to whole 32-blocks (Q8_0/Q4_0 block) where the width allows, so that a
 * pruned {@code ffn_down} can still be stored in a 32-block type instead of falling back to f16.
 */
public final class CompressionSpace {
    public static final String ATTN_TYPE = "attn.type", FFN_TYPE = "ffn.type", EMBD_TYPE = "embd.type", FFN_KEEP = "ffn.keep";

    /** The groups' tensors by GGUF name (2-D weights only are quantized; norms and biases never match a rule). */
    public static final Pattern ATTN = Pattern.compile("blk\\.\\d+\\.attn_(q|k|v|qkv|output)(\\.lr_[ab])?\\.weight");
    public static final Pattern FFN = Pattern.compile("blk\\.\\d+\\.ffn_(gate|up|down)(_exps)?\\.weight");
    public static final Pattern EMBD = Pattern.compile("(token_embd|output)\\.weight");

    /** From least to most compression (grid search walks them in this order). */
    public static final List<GgmlType> DEFAULT_TYPES = List.of(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q5_K, GgmlType.Q4_K, GgmlType.Q4_0);
    public static final List<Double> DEFAULT_FFN_KEEP = List.of(1.0, 0.875, 0.75);

    private static final int CHANNEL_BLOCK = 32;

    private final SearchSpace space;
    private final int ffnDim;
    private final Map<String, Integer> channelsByKeep;

    private CompressionSpace(SearchSpace space, int ffnDim, Map<String, Integer> channelsByKeep) {
        this.space = space;
        this.ffnDim = ffnDim;
        this.channelsByKeep = channelsByKeep;
    }

    /**
     * The space for {@code model} over {@code types} and {@code ffnKeep} ratios (each in (0, 1]).
     *
     * @throws IllegalArgumentException when a group allows none of the types
     */
    public static CompressionSpace of(GgufModel model, List<GgmlType> types, List<Double> ffnKeep) {
        if (types.isEmpty()) throw new IllegalArgumentException("--types names no type");
        if (ffnKeep.isEmpty()) throw new IllegalArgumentException("--ffn-keep names no ratio");
        WeightSource w = model.weights();
        int ffnDim = model.config().ffnDim();
        List<Dimension> dims = new ArrayList<>();
        dims.add(new Dimension(ATTN_TYPE, allowed(w, ATTN, types, "attention")));
        dims.add(new Dimension(FFN_TYPE, allowed(w, FFN, types, "MLP")));
        dims.add(new Dimension(EMBD_TYPE, allowed(w, EMBD, types, "embedding/output")));
        Map<String, Integer> channels = new LinkedHashMap<>();
        for (double k : ffnKeep) {
            if (!(k > 0 && k <= 1)) throw new IllegalArgumentException("--ffn-keep ratios must be in (0, 1], got " + k);
            int n = channels(ffnDim, k);
            if (!channels.containsValue(n)) channels.put(ratioName(k), n);
        }
        dims.add(new Dimension(FFN_KEEP, List.copyOf(channels.keySet())));
        return new CompressionSpace(new SearchSpace(dims), ffnDim, channels);
    }

    public SearchSpace searchSpace() {
        return space;
    }

    /** What {@code c} does to the model. */
    public CompressionRecipe recipe(Candidate c) {
        Integer channels = channelsByKeep.get(c.get(FFN_KEEP));
        if (channels == null) throw new IllegalArgumentException("unknown " + FFN_KEEP + " option " + c.get(FFN_KEEP));
        return new CompressionRecipe(parseType(c.get(ATTN_TYPE)), parseType(c.get(FFN_TYPE)), parseType(c.get(EMBD_TYPE)), channels);
    }

    public int ffnDim() {
        return ffnDim;
    }

    /** {@code round(ffn * keep)} in whole 32-channel blocks when the width is a multiple of 32, at least one block. */
    static int channels(int ffnDim, double keep) {
        if (keep >= 1) return ffnDim;
        if (ffnDim % CHANNEL_BLOCK != 0 || ffnDim < 2 * CHANNEL_BLOCK) return Math.max(1, (int) Math.round(ffnDim * keep));
        return Math.max(CHANNEL_BLOCK, (int) Math.round(ffnDim * keep / CHANNEL_BLOCK) * CHANNEL_BLOCK);
    }

    /** The types of {@code types} whose blocks divide the rows of every matrix of the group ({@code ffn_down} excepted). */
    static List<String> allowed(WeightSource w, Pattern group, List<GgmlType> types, String what) {
        List<String> out = new ArrayList<>();
        for (GgmlType t : types) {
            boolean fits = true;
            boolean any = false;
            for (String name : w.names()) {
                if (!group.matcher(name).matches()) continue;
                any = true;
                long[] shape = w.shape(name);
                if (name.contains("ffn_down")) continue;
                if (shape[0] % t.blockSize != 0) fits = false;
            }
            if (!any) throw new IllegalArgumentException("the model has no " + what + " tensors (" + group.pattern() + ")");
            if (fits) out.add(typeName(t));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("none of the types " + types.stream().map(CompressionSpace::typeName).toList()
                    + " fits the row length of the model's " + what + " tensors; add f16 or q8_0 to --types");
        }
        return out;
    }

    public static String typeName(GgmlType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    /** f16, q8_0, q6_k, q5_k, q4_k or q4_0 (what {@code --types} accepts). */
    public static GgmlType parseType(String s) {
        String n = s.trim().toLowerCase(Locale.ROOT);
        for (GgmlType t : DEFAULT_TYPES) if (typeName(t).equals(n)) return t;
        throw new IllegalArgumentException("unknown type '" + s + "': use f16, q8_0, q6_k, q5_k, q4_k or q4_0");
    }

    static String ratioName(double k) {
        String s = String.format(Locale.ROOT, "%.4f", k).replaceAll("0+$", "");
        return s.endsWith(".") ? s + "0" : s;
    }
}
