package ai.autoglm.core.tensor;

/**
 * The float kernel attention needs besides {@link FloatTensor#dot} (q·k over the cache's key rows in their GGML
 * layout): the weighted sum of value rows, {@code out += a * v}. Vector API when {@link VectorSupport#ENABLED},
 * otherwise the scalar loop, so {@link VectorKernels} is never loaded on a JVM without the incubator module.
 */
public final class AttentionKernels {
    private AttentionKernels() {
    }

    /** {@code y[yo + i] += a * x[xo + i]} for {@code i < n}. */
    public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        if (VectorSupport.ENABLED) {
            VectorKernels.axpy(a, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
