package ai.autoglm.train.ops;

/**
 * SwiGLU (Shazeer 2020, "GLU Variants Improve Transformer", FFN_SwiGLU): {@code h = silu(g) * u} with
 * {@code silu(g) = g * sigmoid(g)}. Gate and up are read with a row stride so the fused {@code gate|up}
 * layout (GLM's {@code dense_h_to_4h} / {@code gate_up_proj}: rows gate then up) and separate gate/up
 * buffers use the same code.
 *
 * <p>Backward: {@code d silu(g)/dg = s (1 + g (1 - s))} with {@code s = sigmoid(g)}, so
 * {@code dg = dh * u * s (1 + g (1 - s))}, {@code du = dh * silu(g)}.
 */
public final class SwiGlu {
    private SwiGlu() {
    }

    /**
     * {@code h[t][i] = silu(gate[gOff + t*stride + i]) * up[uOff + t*stride + i]} for {@code t < n}, {@code i < f}.
     */
    public static void forward(float[] gate, int gOff, float[] up, int uOff, int stride, int n, int f, float[] h) {
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < f; i++) {
                float g = gate[gOff + t * stride + i];
                h[t * f + i] = silu(g) * up[uOff + t * stride + i];
            }
        }
    }

    /** Writes {@code dgate} and {@code dup} (same layout as the inputs) from {@code dh}. */
    public static void backward(float[] dh, float[] gate, int gOff, float[] up, int uOff, int stride, int n, int f,
                                float[] dgate, float[] dup) {
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < f; i++) {
                int gi = gOff + t * stride + i, ui = uOff + t * stride + i;
                float g = gate[gi], u = up[ui], d = dh[t * f + i];
                float s = sigmoid(g);
                dgate[gi] = d * u * s * (1f + g * (1f - s));
                dup[ui] = d * g * s;
            }
        }
    }

    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    static float silu(float x) {
        return x * sigmoid(x);
    }
}
