package ai.autoglm.core.tensor;

/**
 * The decode kernels' form of x for the K-quants ({@link Q4_KTensor.Kernels#dotQ4_KPrepared} and its Q5_K/Q6_K
 * siblings): the n floats as they are (in the 64-byte aligned segment of a {@link PreparedVector}), then 16 floats
 * per 256-element block that carry the part of every weight that does not depend on its quant:
 * <ul>
 *   <li>Q4_K/Q5_K ({@code value = d sc_j q - dmin m_j}): {@code [0 x 8, -S_0 .. -S_7]}, S_j the sum of x over
 *       sub-block j (32 elements), so {@code dmin * sum_j m_j (-S_j)} is one multiply-add of the block's
 *       {@code [sc, m]} vector with it (the zeros cancel the sc lanes);</li>
 *   <li>Q6_K ({@code value = d sc_i (q - 32)}): {@code -32 S_i} over its 16 groups of 16 elements.</li>
 * </ul>
 * O(n), paid once per matrix-vector product for all rows.
 */
final class KQuantPrepare {
    private KQuantPrepare() {
    }

    /** Floats per block after x. */
    static final int EXTRA = 16;

    /** Prepares x for rows of whole 256-element blocks; false when n is not a multiple of 256. */
    static boolean prepare(float[] x, int xOff, int n, PreparedVector into, boolean q6) {
        if (n % 256 != 0) return false;
        int blocks = n / 256;
        float[] v = into.stage(n, EXTRA * blocks);
        System.arraycopy(x, xOff, v, 0, n);
        for (int b = 0; b < blocks; b++) {
            int e = n + EXTRA * b, xo = xOff + 256 * b;
            if (q6) {
                for (int i = 0; i < 16; i++) {
                    float s = 0f;
                    for (int l = 0; l < 16; l++) s += x[xo + 16 * i + l];
                    v[e + i] = -32 * s;
                }
            } else {
                for (int j = 0; j < 8; j++) {
                    float s = 0f;
                    for (int l = 0; l < 32; l++) s += x[xo + 32 * j + l];
                    v[e + j] = 0f;
                    v[e + 8 + j] = -s;
                }
            }
        }
        into.publish();
        return true;
    }
}
