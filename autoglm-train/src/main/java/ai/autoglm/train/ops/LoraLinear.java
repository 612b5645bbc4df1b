package ai.autoglm.train.ops;

/**
 * The LoRA update of a frozen linear layer and its gradients (Hu et al. 2021, eq. 3; PEFT {@code lora.Linear.forward}
 * {@code result += lora_B(lora_A(x)) * scaling}): with {@code u = x A^T} ({@code [n][r]}, A is {@code [r][in]}) and
 * {@code y += s * u B^T} (B is {@code [out][r]}), the chain rule through the two matmuls ({@link Linear}'s identities)
 * gives
 * <pre>
 *   du  = s * dy B        dB += s * dy^T u
 *   dA += du^T x          dx += du A
 * </pre>
 * The base weight gets nothing: it is not a parameter of this op.
 */
public final class LoraLinear {
    private LoraLinear() {
    }

    /** {@code y += scale * (x A^T) B^T}; leaves {@code x A^T} in {@code u} ({@code n * r}) for the backward. */
    public static void forward(float[] x, int n, int in, float[] a, float[] b, int r, int out, float scale, float[] u, float[] y) {
        Linear.forward(x, n, in, a, null, r, u);
        float[] v = new float[n * out];
        Linear.forward(u, n, r, b, null, out, v);
        for (int i = 0; i < v.length; i++) y[i] += scale * v[i];
    }

    /** Accumulates {@code dA}, {@code dB} and {@code dx} (when not null) for upstream {@code dy} and the forward's {@code u}. */
    public static void backward(float[] dy, float[] x, float[] u, int n, int in, float[] a, float[] b, int r, int out, float scale,
                                float[] dx, float[] da, float[] db) {
        float[] sdy = new float[n * out];
        for (int i = 0; i < sdy.length; i++) sdy[i] = scale * dy[i];
        float[] du = new float[n * r];
        Linear.backward(sdy, u, n, r, b, out, du, db, null);
        Linear.backward(du, x, n, in, a, r, dx, da, null);
    }
}
