package ai.autoglm.train.ops;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.ToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The LoRA op's gradients against central finite differences of a double-precision forward written here
 * ({@code L = sum g * (s * B (A x))} for a random upstream {@code g}), in the style of {@link OpGradientTest}.
 * Sanity of the check: with the scale left out of {@code dB} (or {@code du}) it fails by a factor of s.
 */
class LoraLinearGradientTest {
    private final Random random = new Random(17);

    private float[] randn(int n, double std) {
        return TestArrays.randn(random, n, std);
    }

    private static double[] d(float[] v) {
        return TestArrays.d(v);
    }

    @Test
    void loraUpdateGradientsForInputAAndB() {
        int n = 4, in = 7, r = 3, out = 5;
        float scale = 2.5f;
        float[] x = randn(n * in, 1), a = randn(r * in, 0.5), b = randn(out * r, 0.5), g = randn(n * out, 1);
        float[] y = new float[n * out], u = new float[n * r];
        float[] base = randn(n * out, 1);
        System.arraycopy(base, 0, y, 0, y.length);
        LoraLinear.forward(x, n, in, a, b, r, out, scale, u, y);
        float[] dx = new float[n * in], da = new float[r * in], db = new float[out * r];
        LoraLinear.backward(g, x, u, n, in, a, b, r, out, scale, dx, da, db);

        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = p -> {
            double[] xx = p[0], aa = p[1], bb = p[2];
            double s = 0;
            for (int t = 0; t < n; t++) {
                double[] ax = new double[r];
                for (int k = 0; k < r; k++) for (int i = 0; i < in; i++) ax[k] += aa[k * in + i] * xx[t * in + i];
                for (int o = 0; o < out; o++) {
                    double v = 0;
                    for (int k = 0; k < r; k++) v += bb[o * r + k] * ax[k];
                    s += gd[t * out + o] * scale * v;
                }
            }
            return s;
        };
        double[][] inputs = {d(x), d(a), d(b)};
        OpGradientTest.assertGradient("lora dx", inputs, 0, loss, dx);
        OpGradientTest.assertGradient("lora dA", inputs, 1, loss, da);
        OpGradientTest.assertGradient("lora dB", inputs, 2, loss, db);

        // the forward added s * B A x to what was in y
        for (int t = 0; t < n; t++) {
            for (int o = 0; o < out; o++) {
                double ref = base[t * out + o];
                for (int k = 0; k < r; k++) {
                    double ax = 0;
                    for (int i = 0; i < in; i++) ax += (double) a[k * in + i] * x[t * in + i];
                    ref += scale * b[o * r + k] * ax;
                }
                assertThat((double) y[t * out + o]).isCloseTo(ref, within(1e-5));
            }
        }
    }
}
