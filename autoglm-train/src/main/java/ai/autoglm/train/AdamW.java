package ai.autoglm.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization", Algorithm 2; the update of
 * PyTorch's {@code torch.optim.AdamW}): weight decay shrinks a parameter directly ({@code w -= lr * wd * w}) instead
 * of being added to the gradient, then the bias-corrected Adam step {@code w -= lr * m_hat / (sqrt(v_hat) + eps)}.
 * Decay applies to parameters with {@link Parameter#decay()} only: the projection matrices, not the embedding,
 * norms or biases.
 *
 * <p>The moments are kept per parameter in F32 so that a checkpoint holds them exactly.
 */
public final class AdamW {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private long step;

    public AdamW(ParameterSet params, double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Parameter p : params.all()) {
            m.put(p.name(), new float[p.size()]);
            v.put(p.name(), new float[p.size()]);
        }
    }

    /** Steps taken so far (the {@code t} of the bias corrections). */
    public long step() {
        return step;
    }

    void restore(long step) {
        this.step = step;
    }

    /** First moment of a parameter (live array: checkpoints read and restore it). */
    public float[] firstMoment(String name) {
        return m.get(name);
    }

    /** Second moment of a parameter (live array). */
    public float[] secondMoment(String name) {
        return v.get(name);
    }

    /** One update of every parameter from its {@code grad} with learning rate {@code lr}. */
    public void update(ParameterSet params, double lr) {
        step++;
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        float b1 = (float) beta1, b2 = (float) beta2;
        for (Parameter p : params.all()) {
            float[] w = p.value(), g = p.grad(), mm = m.get(p.name()), vv = v.get(p.name());
            float decay = p.decay() ? (float) (1 - lr * weightDecay) : 1f;
            float stepSize = (float) (lr / c1);
            float invC2 = (float) (1 / c2);
            float e = (float) eps;
            ai.autoglm.core.model.Parallel.forRange(w.length, 16, (from, to) -> {
                for (int i = from; i < to; i++) {
                    mm[i] = b1 * mm[i] + (1 - b1) * g[i];
                    vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
                    w[i] = w[i] * decay - stepSize * mm[i] / ((float) Math.sqrt(vv[i] * invC2) + e);
                }
            });
        }
    }

    /**
     * Scales all gradients so their global L2 norm is at most {@code maxNorm} (Pascanu et al. 2013; PyTorch
     * {@code clip_grad_norm_}, which multiplies by {@code maxNorm / (norm + 1e-6)} when above). Returns the norm
     * before clipping.
     */
    public static double clipGradientNorm(ParameterSet params, double maxNorm) {
        double ss = 0;
        for (Parameter p : params.all()) {
            for (float g : p.grad()) ss += (double) g * g;
        }
        double norm = Math.sqrt(ss);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Parameter p : params.all()) {
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) g[i] *= scale;
            }
        }
        return norm;
    }
}
