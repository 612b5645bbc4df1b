package ai.autoglm.train.ops;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static ai.autoglm.train.ops.OpGradientTest.assertGradient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The distillation ops' values and gradients against plain double-precision definitions written here
 * (softmax, KL divergence, cross-entropy, squared error after a matrix product) and their central finite
 * differences, as {@link OpGradientTest} does for the model's ops.
 */
class DistillationOpGradientTest {
    private final Random random = new Random(11);

    private float[] randn(int n, double std) {
        return TestArrays.randn(random, n, std);
    }

    private static double[] d(float[] v) {
        return TestArrays.d(v);
    }

    private static double[] softmax(double[] z, int off, int n, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, z[off + i] / temperature);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += p[i] = Math.exp(z[off + i] / temperature - max);
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }

    /** alpha T^2 mean KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) mean CE, in double. */
    private static double referenceLoss(double[] student, double[] teacher, int n, int vocab, int[] targets, double temperature, double alpha,
                                        double[] parts) {
        double kl = 0, ce = 0;
        int m = 0;
        for (int t = 0; t < n; t++) {
            if (targets[t] < 0) continue;
            m++;
            double[] p = softmax(teacher, t * vocab, vocab, temperature), q = softmax(student, t * vocab, vocab, temperature);
            for (int i = 0; i < vocab; i++) kl += p[i] * Math.log(p[i] / q[i]);
            ce -= Math.log(softmax(student, t * vocab, vocab, 1)[targets[t]]);
        }
        if (parts != null) {
            parts[0] = kl / m;
            parts[1] = ce / m;
        }
        return alpha * temperature * temperature * kl / m + (1 - alpha) * ce / m;
    }

    @Test
    void distillationLossValueAndStudentGradient() {
        int n = 4, vocab = 9;
        int[] targets = {3, -1, 0, 8};
        for (double[] tAlpha : new double[][]{{2.0, 0.5}, {1.0, 1.0}, {4.0, 0.2}, {0.5, 0.0}}) {
            double temperature = tAlpha[0], alpha = tAlpha[1];
            float[] student = randn(n * vocab, 2), teacher = randn(n * vocab, 2);
            float[] grad = new float[n * vocab];
            DistillationLoss.Value v = DistillationLoss.forwardBackward(student, teacher, n, vocab, targets, temperature, alpha, grad,
                    new double[n], new double[n]);
            double[] parts = new double[2];
            double expected = referenceLoss(d(student), d(teacher), n, vocab, targets, temperature, alpha, parts);
            assertThat(v.total()).isCloseTo(expected, within(1e-9 * Math.max(1, expected)));
            assertThat(v.kl()).isCloseTo(parts[0], within(1e-9));
            assertThat(v.crossEntropy()).isCloseTo(parts[1], within(1e-9));
            double[][] inputs = {d(student), d(teacher)};
            assertGradient("distillation T=" + temperature + " alpha=" + alpha, inputs, 0,
                    in -> referenceLoss(in[0], in[1], n, vocab, targets, temperature, alpha, null), grad);
        }
    }

    @Test
    void gradientMayOverwriteTheStudentLogits() {
        int n = 3, vocab = 5;
        int[] targets = {1, 2, 3};
        float[] student = randn(n * vocab, 1), teacher = randn(n * vocab, 1), separate = new float[n * vocab];
        DistillationLoss.forwardBackward(student, teacher, n, vocab, targets, 2, 0.5, separate, new double[n], new double[n]);
        float[] inPlace = student.clone();
        DistillationLoss.forwardBackward(inPlace, teacher, n, vocab, targets, 2, 0.5, inPlace, new double[n], new double[n]);
        assertThat(inPlace).containsExactly(separate);
    }

    /** weight / (n dt) * sum (W h_s - h_t)^2 in double (W null: h_s as it is). */
    private static double referenceMse(double[] hs, double[] ht, double[] w, int n, int ds, int dt, double weight) {
        double sum = 0;
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < dt; j++) {
                double y = 0;
                if (w == null) y = hs[t * ds + j];
                else for (int i = 0; i < ds; i++) y += w[j * ds + i] * hs[t * ds + i];
                double r = y - ht[t * dt + j];
                sum += r * r;
            }
        }
        return weight * sum / (n * dt);
    }

    @Test
    void hiddenStateMseThroughALearnedMap() {
        int n = 5, ds = 4, dt = 6;
        double weight = 0.7;
        float[] hs = randn(n * ds, 1), ht = randn(n * dt, 1), w = randn(dt * ds, 0.5);
        float[] dhs = new float[n * ds], dw = new float[dt * ds];
        double loss = HiddenStateMse.forwardBackward(hs, ht, n, ds, dt, w, dw, weight, new float[n * dt], dhs);
        assertThat(loss).isCloseTo(referenceMse(d(hs), d(ht), d(w), n, ds, dt, weight), within(1e-6));
        double[][] inputs = {d(hs), d(ht), d(w)};
        assertGradient("mse d hs", inputs, 0, in -> referenceMse(in[0], in[1], in[2], n, ds, dt, weight), dhs);
        assertGradient("mse d W", inputs, 2, in -> referenceMse(in[0], in[1], in[2], n, ds, dt, weight), dw);
    }

    @Test
    void hiddenStateMseOfEqualWidthsAccumulates() {
        int n = 3, dim = 5;
        float[] hs = randn(n * dim, 1), ht = randn(n * dim, 1);
        float[] earlier = randn(n * dim, 1), dhs = earlier.clone();
        double loss = HiddenStateMse.forwardBackward(hs, ht, n, dim, dim, null, null, 1.5, null, dhs);
        assertThat(loss).isCloseTo(referenceMse(d(hs), d(ht), null, n, dim, dim, 1.5), within(1e-6));
        float[] added = new float[n * dim];
        for (int i = 0; i < added.length; i++) added[i] = dhs[i] - earlier[i];
        double[][] inputs = {d(hs), d(ht)};
        assertGradient("mse d hs (no map)", inputs, 0, in -> referenceMse(in[0], in[1], null, n, dim, dim, 1.5), added);
    }
}
