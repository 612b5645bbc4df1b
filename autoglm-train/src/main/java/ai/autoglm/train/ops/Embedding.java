package ai.autoglm.train.ops;

/**
 * Token embedding lookup {@code x[t] = E[token_t]} and its gradient, a scatter-add {@code dE[token_t] += dx[t]}
 * (rows of tokens that occur several times add up; in token order, so the sum is reproducible).
 */
public final class Embedding {
    private Embedding() {
    }

    public static void forward(float[] table, int dim, int[] tokens, float[] x) {
        for (int t = 0; t < tokens.length; t++) System.arraycopy(table, tokens[t] * dim, x, t * dim, dim);
    }

    public static void backward(float[] dx, int dim, int[] tokens, float[] dtable) {
        for (int t = 0; t < tokens.length; t++) Kernels.axpy(1f, dx, t * dim, dtable, tokens[t] * dim, dim);
    }
}
