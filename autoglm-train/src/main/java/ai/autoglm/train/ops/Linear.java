package ai.autoglm.train.ops;

import ai.autoglm.core.model.Parallel;

/**
 * A fully connected layer over a batch of rows, {@code y = x W^T + b} (torch.nn.Linear; W is
 * {@code [out][in]} row-major, the HF and GGUF layout), and its gradients (the matrix-calculus identities of
 * e.g. Goodfellow et al., Deep Learning, 6.5.9, or the CS231n notes on backprop through a matmul):
 * <pre>
 *   dx = dy W        ([n][out] x [out][in])
 *   dW += dy^T x     ([out][n] x [n][in])
 *   db += sum_t dy[t]
 * </pre>
 * Loops are tiled so a tile of rows of one operand stays in cache while the other streams past, and run in
 * parallel over output rows or tokens: every output element is summed by one thread in a fixed order, so the
 * result does not depend on the number of threads.
 */
public final class Linear {
    /** Rows per tile: small enough to sit in L1/L2 with a weight row, large enough to amortize streaming. */
    private static final int TILE = 16;

    private Linear() {
    }

    /** {@code y[t][o] = b[o] + x[t] . W[o]} for {@code t < n}, {@code o < out}; {@code b} may be null. */
    public static void forward(float[] x, int n, int in, float[] w, float[] b, int out, float[] y) {
        int tiles = (n + TILE - 1) / TILE;
        Parallel.forRange(tiles, (long) TILE * in * out, (from, to) -> {
            for (int tile = from; tile < to; tile++) {
                int t0 = tile * TILE, t1 = Math.min(n, t0 + TILE);
                for (int o = 0; o < out; o++) {
                    float bias = b == null ? 0f : b[o];
                    for (int t = t0; t < t1; t++) y[t * out + o] = bias + Kernels.dot(x, t * in, w, o * in, in);
                }
            }
        });
    }

    /**
     * Accumulates {@code dW += dy^T x}, {@code db += sum dy} (db may be null) and, when {@code dx} is not null,
     * {@code dx += dy W} (accumulating, so that several projections of one input sum their gradients). With
     * {@code dw} and {@code db} both null (a frozen weight, as under LoRA fine-tuning) only {@code dx} is computed.
     */
    public static void backward(float[] dy, float[] x, int n, int in, float[] w, int out,
                                float[] dx, float[] dw, float[] db) {
        if (dx != null) {
            int tiles = (n + TILE - 1) / TILE;
            Parallel.forRange(tiles, (long) TILE * in * out, (from, to) -> {
                for (int tile = from; tile < to; tile++) {
                    int t0 = tile * TILE, t1 = Math.min(n, t0 + TILE);
                    for (int o = 0; o < out; o++) {
                        for (int t = t0; t < t1; t++) {
                            float g = dy[t * out + o];
                            if (g != 0f) Kernels.axpy(g, w, o * in, dx, t * in, in);
                        }
                    }
                }
            });
        }
        if (dw == null && db == null) return;
        int rowTiles = (out + TILE - 1) / TILE;
        Parallel.forRange(rowTiles, (long) TILE * in * n, (from, to) -> {
            for (int tile = from; tile < to; tile++) {
                int o0 = tile * TILE, o1 = Math.min(out, o0 + TILE);
                for (int t = 0; t < n; t++) {
                    for (int o = o0; o < o1; o++) {
                        float g = dy[t * out + o];
                        if (g != 0f && dw != null) Kernels.axpy(g, x, t * in, dw, o * in, in);
                        if (db != null) db[o] += g;
                    }
                }
            }
        });
    }
}
