package ai.autoglm.compress.prune;

import java.util.regex.Pattern;

/**
 * What unstructured or semi-structured pruning does: which score, which pattern, how sparse, on which tensors.
 *
 * @param score    {@link Score#MAGNITUDE} (no calibration) or {@link Score#WANDA} (needs activation statistics)
 * @param pattern  {@link SparsityPattern#UNSTRUCTURED} at {@code sparsity}, or {@link SparsityPattern#TWO_FOUR} (50%)
 * @param sparsity share of weights zeroed, in [0, 1) (ignored for 2:4)
 * @param tensors  names of the tensors to prune (full match)
 */
public record SparsityPlan(Score score, SparsityPattern pattern, double sparsity, Pattern tensors) {

    /**
     * The block projections: attention q/k/v (split or fused), output, and the MLP. Embeddings and the output head are
     * left dense, as Wanda and SparseGPT do.
     */
    public static final Pattern DEFAULT_TENSORS = Pattern.compile("blk\\.\\d+\\.(attn_(q|k|v|qkv|output)|ffn_(gate|up|down))\\.weight");

    public enum Score { MAGNITUDE, WANDA }

    public enum SparsityPattern { UNSTRUCTURED, TWO_FOUR }

    public SparsityPlan {
        if (score == null || pattern == null || tensors == null) throw new IllegalArgumentException("incomplete sparsity plan");
        if (pattern == SparsityPattern.UNSTRUCTURED) SparsityMasks.checkSparsity(sparsity);
    }

    public static SparsityPlan unstructured(Score score, double sparsity) {
        return new SparsityPlan(score, SparsityPattern.UNSTRUCTURED, sparsity, DEFAULT_TENSORS);
    }

    public static SparsityPlan twoFour(Score score) {
        return new SparsityPlan(score, SparsityPattern.TWO_FOUR, 0.5, DEFAULT_TENSORS);
    }

    public SparsityPlan withTensors(Pattern p) {
        return new SparsityPlan(score, pattern, sparsity, p);
    }
}
