package ai.autoglm.train.ops;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019, "Root Mean Square Layer Normalization"; HF LlamaRMSNorm) per row:
 * {@code y = w * x * r} with {@code r = 1 / sqrt(mean(x^2) + eps)}.
 *
 * <p>Backward (eq. 7-8 of the paper, rederived): with {@code g = dy * w},
 * {@code dr/dx_j = -r^3 x_j / d}, so
 * <pre>
 *   dx_j = r g_j - r^3 x_j / d * sum_i g_i x_i
 *   dw_i += dy_i x_i r
 * </pre>
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** Normalizes {@code n} rows of {@code d}; stores each row's {@code r} in {@code rstd[t]} for the backward pass. */
    public static void forward(float[] x, int n, int d, float[] w, float eps, float[] y, float[] rstd) {
        for (int t = 0; t < n; t++) {
            int off = t * d;
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) x[off + i] * x[off + i];
            float r = (float) (1.0 / Math.sqrt(ss / d + eps));
            rstd[t] = r;
            for (int i = 0; i < d; i++) y[off + i] = x[off + i] * r * w[i];
        }
    }

    /** Sets {@code dx} (may alias {@code dy}) and accumulates {@code dw}, from the forward's {@code x} and {@code rstd}. */
    public static void backward(float[] dy, float[] x, int n, int d, float[] w, float[] rstd, float[] dx, float[] dw) {
        for (int t = 0; t < n; t++) {
            int off = t * d;
            float r = rstd[t];
            double dot = 0;
            for (int i = 0; i < d; i++) dot += (double) dy[off + i] * w[i] * x[off + i];
            float c = (float) (dot * r * r * r / d);
            for (int i = 0; i < d; i++) {
                float g = dy[off + i];
                dw[i] += g * x[off + i] * r;
                dx[off + i] = g * w[i] * r - c * x[off + i];
            }
        }
    }
}
