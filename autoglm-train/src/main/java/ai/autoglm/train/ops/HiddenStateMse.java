package ai.autoglm.train.ops;

/**
 * Hidden-state matching for distillation (FitNets, Romero et al. 2015, "FitNets: Hints for Thin Deep Nets", eq. 3;
 * TinyBERT, Jiao et al. 2020, eq. 7): the mean squared error between the teacher's hidden rows {@code h_t} and the
 * student's rows {@code h_s}, mapped to the teacher's width by a learned matrix {@code W} ({@code [dt][ds]}) when the
 * widths differ, or taken as they are when {@code W} is null:
 * <pre>
 *   L = weight / (n dt) * sum_t || W h_s[t] - h_t[t] ||^2
 *   dL/dy = 2 weight / (n dt) (y - h_t),  y = W h_s;  dW += dy^T h_s;  dh_s += dy W   (see {@link Linear})
 * </pre>
 */
public final class HiddenStateMse {
    private HiddenStateMse() {
    }

    /**
     * Returns the loss, <b>adds</b> its gradient to {@code dStudent} ({@code [n][ds]}) and, with a map, to {@code dw}.
     * {@code mapped} is a scratch array of {@code n * dt} floats (unused without a map).
     */
    public static double forwardBackward(float[] student, float[] teacher, int n, int ds, int dt, float[] w, float[] dw,
                                         double weight, float[] mapped, float[] dStudent) {
        if (w == null && ds != dt) throw new IllegalArgumentException("hidden widths " + ds + " and " + dt + " differ and no map is given");
        float[] y = student;
        if (w != null) {
            Linear.forward(student, n, ds, w, null, dt, mapped);
            y = mapped;
        }
        double sum = 0, scale = 2 * weight / ((double) n * dt);
        // y's rows become dL/dy in place (mapped is scratch) or go straight into dStudent (no map)
        for (int i = 0; i < n * dt; i++) {
            double r = (double) y[i] - teacher[i];
            sum += r * r;
            float g = (float) (scale * r);
            if (w != null) mapped[i] = g;
            else dStudent[i] += g;
        }
        if (w != null) Linear.backward(mapped, student, n, ds, w, dt, dStudent, dw, null);
        return weight * sum / ((double) n * dt);
    }
}
