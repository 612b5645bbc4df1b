package ai.autoglm.core.testing;

/**
 * Causal scaled-dot-product attention of one query position over the cached keys and values, in double precision,
 * as the Hugging Face modeling files compute it (softmax(q k^T / sqrt(head_dim)) v, key/value heads shared by groups
 * of query heads: {@code repeat_kv}, ChatGLM's {@code multi_query_group_num}). Shared by the reference forwards
 * ({@link ReferenceForward}, {@link GlmReferenceForward}, {@link MoeReferenceForward}), which stay independent of
 * the engine.
 */
final class ReferenceAttention {
    private ReferenceAttention() {
    }

    /**
     * The attention output ({@code heads * headDim}) of query {@code q} at position {@code pos}, keys and values of
     * positions {@code 0..pos} in {@code keys}/{@code values} at stride {@code kvHeads * headDim}.
     */
    static double[] attend(double[] q, double[] keys, double[] values, int pos, int heads, int kvHeads, int headDim) {
        int kvDim = kvHeads * headDim;
        double[] attn = new double[heads * headDim];
        for (int head = 0; head < heads; head++) {
            int group = head / (heads / kvHeads);
            double[] scores = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                double dot = 0;
                for (int i = 0; i < headDim; i++) dot += q[head * headDim + i] * keys[t * kvDim + group * headDim + i];
                scores[t] = dot / Math.sqrt(headDim);
                max = Math.max(max, scores[t]);
            }
            double sum = 0;
            for (int t = 0; t <= pos; t++) {
                scores[t] = Math.exp(scores[t] - max);
                sum += scores[t];
            }
            for (int t = 0; t <= pos; t++) {
                for (int i = 0; i < headDim; i++) attn[head * headDim + i] += scores[t] / sum * values[t * kvDim + group * headDim + i];
            }
        }
        return attn;
    }
}
