package ai.autoglm.compress.lowrank;

import java.util.regex.Pattern;

/**
 * Which projections to factorise and how far: a fixed {@code rank}, or the smallest rank per tensor that keeps
 * {@code energy} of its squared singular values (exactly one of the two).
 *
 * @param rank    the rank of every chosen tensor, or 0 when {@code energy} decides
 * @param energy  in (0, 1], or 0 when {@code rank} decides
 * @param tensors names of the tensors to factorise (full match); only block projections qualify
 */
public record LowRankPlan(int rank, double energy, Pattern tensors) {

    /** The block projections; the embeddings and the output head are not factorised. */
    public static final Pattern DEFAULT_TENSORS = Pattern.compile("blk\\.\\d+\\.(attn_(q|k|v|qkv|output)|ffn_(gate|up|down))\\.weight");

    public LowRankPlan {
        if ((rank > 0) == (energy > 0)) throw new IllegalArgumentException("give exactly one of --rank and --energy");
        if (rank < 0) throw new IllegalArgumentException("--rank must be positive, got " + rank);
        if (energy != 0 && !(energy > 0 && energy <= 1)) throw new IllegalArgumentException("--energy must be in (0, 1], got " + energy);
        if (tensors == null) throw new IllegalArgumentException("no tensor pattern");
    }

    public static LowRankPlan ofRank(int rank) {
        if (rank < 1) throw new IllegalArgumentException("--rank must be positive, got " + rank);
        return new LowRankPlan(rank, 0, DEFAULT_TENSORS);
    }

    public static LowRankPlan ofEnergy(double energy) {
        if (!(energy > 0 && energy <= 1)) throw new IllegalArgumentException("--energy must be in (0, 1], got " + energy);
        return new LowRankPlan(0, energy, DEFAULT_TENSORS);
    }

    public LowRankPlan withTensors(Pattern p) {
        return new LowRankPlan(rank, energy, p);
    }
}
