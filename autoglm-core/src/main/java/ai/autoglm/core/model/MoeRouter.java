package ai.autoglm.core.model;

/**
 * Expert selection for one token from its router logits, as the Hugging Face modeling code does it:
 * <ul>
 *   <li>softmax (modeling_qwen3_moe.py Qwen3MoeSparseMoeBlock): {@code p = softmax(logits)}, the top-k of p, divided by
 *       their sum when {@code norm_topk_prob};</li>
 *   <li>sigmoid (modeling_glm4_moe.py Glm4MoeMoE.route_tokens_to_experts): {@code s = sigmoid(logits)}, selection scores
 *       {@code s + e_score_correction_bias}; with groups, each group's score is the sum of its two best selection
 *       scores, the best {@code topk_group} groups are kept and the other experts' selection scores set to 0.0
 *       ({@code masked_fill(~mask, 0.0)}, not minus infinity); the top-k of the selection scores; the weights are the
 *       unbiased {@code s} of those experts, divided by {@code sum + 1e-20} when {@code norm_topk_prob}, times
 *       {@code routed_scaling_factor}.</li>
 * </ul>
 * Ties go to the lower expert id. Stateless; the caller owns the scratch.
 */
public final class MoeRouter {
    private MoeRouter() {
    }

    /**
     * Selects {@code moe.used()} experts for the logits {@code logits[off .. off + experts)}, writing their ids to
     * {@code ids[outOff ..]} and their weights to {@code weights[outOff ..]}, in descending selection-score order.
     *
     * @param bias    the selection bias (sigmoid gating; may be null)
     * @param scratch at least {@code 2 * experts} floats
     */
    public static void select(MoeConfig moe, float[] logits, int off, float[] bias, int[] ids, float[] weights, int outOff, float[] scratch) {
        int e = moe.experts(), k = moe.used();
        float[] prob = scratch;       // [0, e): gating probabilities
        int choice = e;               // [e, 2e): selection scores
        if (moe.gating() == MoeConfig.Gating.SOFTMAX) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < e; i++) max = Math.max(max, logits[off + i]);
            double sum = 0;
            for (int i = 0; i < e; i++) {
                prob[i] = (float) Math.exp(logits[off + i] - max);
                sum += prob[i];
            }
            for (int i = 0; i < e; i++) {
                prob[i] = (float) (prob[i] / sum);
                scratch[choice + i] = prob[i];
            }
        } else {
            for (int i = 0; i < e; i++) {
                prob[i] = (float) (1.0 / (1.0 + Math.exp(-logits[off + i])));
                scratch[choice + i] = prob[i] + (bias != null ? bias[i] : 0f);
            }
            if (moe.groups() > 1) maskGroups(moe, scratch, choice);
        }
        // top-k by selection score (k is small: selection by repeated maximum)
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < e; i++) {
                if (taken(ids, outOff, j, i)) continue;
                if (best < 0 || scratch[choice + i] > scratch[choice + best]) best = i;
            }
            ids[outOff + j] = best;
            weights[outOff + j] = prob[best];
        }
        if (moe.normTopk()) {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += weights[outOff + j];
            if (moe.gating() == MoeConfig.Gating.SIGMOID) sum += 1e-20;
            for (int j = 0; j < k; j++) weights[outOff + j] = (float) (weights[outOff + j] / sum);
        }
        if (moe.scale() != 1.0) {
            for (int j = 0; j < k; j++) weights[outOff + j] = (float) (weights[outOff + j] * moe.scale());
        }
    }

    private static boolean taken(int[] ids, int outOff, int j, int i) {
        for (int q = 0; q < j; q++) if (ids[outOff + q] == i) return true;
        return false;
    }

    /** Zeroes the selection scores of the experts outside the {@code groupsUsed} best groups (score: sum of the top 2). */
    private static void maskGroups(MoeConfig moe, float[] s, int at) {
        int groups = moe.groups(), per = moe.experts() / groups;
        double[] score = new double[groups];
        for (int g = 0; g < groups; g++) {
            float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < per; i++) {
                float v = s[at + g * per + i];
                if (v > a) {
                    b = a;
                    a = v;
                } else if (v > b) {
                    b = v;
                }
            }
            score[g] = (double) a + b;
        }
        boolean[] keep = new boolean[groups];
        for (int j = 0; j < moe.groupsUsed(); j++) {
            int best = -1;
            for (int g = 0; g < groups; g++) if (!keep[g] && (best < 0 || score[g] > score[best])) best = g;
            keep[best] = true;
        }
        for (int g = 0; g < groups; g++) {
            if (!keep[g]) for (int i = 0; i < per; i++) s[at + g * per + i] = 0f;
        }
    }
}
