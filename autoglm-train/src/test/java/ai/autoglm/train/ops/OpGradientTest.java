package ai.autoglm.train.ops;

import ai.autoglm.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.ToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every op's backward against central finite differences of an independent double-precision forward written
 * here (plain loops in the shape of the HF/PyTorch definitions: rotate_half, repeat_kv, masked softmax). The
 * scalar checked is {@code L = sum(g * f(x))} for a random upstream gradient {@code g}, so the analytic side is
 * the op's backward fed {@code g}. Inputs are floats (exactly representable in double), the op runs in float,
 * the reference and differences in double (h = 1e-6: truncation ~1e-12, rounding ~1e-10).
 *
 * <p>Sanity of the check itself: it was run once with {@link RmsNorm#backward} missing its {@code -c x} term and
 * with the attention backward's {@code - dot} term removed and with the rope backward turning forward instead of
 * back; each failed with errors of the size of the gradient.
 */
class OpGradientTest {
    private static final double H = 1e-6;
    private final Random random = new Random(7);

    // ------------------------------------------------------------------------------- check helpers

    private float[] randn(int n, double std) {
        return TestArrays.randn(random, n, std);
    }

    private static double[] d(float[] v) {
        return TestArrays.d(v);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /**
     * Asserts {@code analytic} matches the central difference of {@code loss} with respect to every entry of
     * {@code inputs[which]} (the function reads all of {@code inputs}, perturbed in place and restored).
     */
    static void assertGradient(String what, double[][] inputs, int which, ToDoubleFunction<double[][]> loss, float[] analytic) {
        double[] x = inputs[which];
        assertThat(analytic).as(what + " gradient length").hasSize(x.length);
        double[] numeric = new double[x.length];
        double scale = 0;
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + H;
            double plus = loss.applyAsDouble(inputs);
            x[i] = saved - H;
            double minus = loss.applyAsDouble(inputs);
            x[i] = saved;
            numeric[i] = (plus - minus) / (2 * H);
            scale = Math.max(scale, Math.abs(numeric[i]));
        }
        assertThat(scale).as(what + ": the check needs a non-vanishing gradient").isGreaterThan(1e-3);
        for (int i = 0; i < x.length; i++) {
            assertThat((double) analytic[i]).as(what + "[" + i + "] (numeric " + numeric[i] + ")")
                    .isCloseTo(numeric[i], org.assertj.core.data.Offset.offset(2e-4 * scale + 1e-6));
        }
    }

    // ------------------------------------------------------------------------------- linear

    @Test
    void linear() {
        int n = 5, in = 7, out = 6;
        float[] x = randn(n * in, 1), w = randn(out * in, 0.5), b = randn(out, 0.5), g = randn(n * out, 1);
        float[] dx = new float[n * in], dw = new float[out * in], db = new float[out];
        Linear.backward(g, x, n, in, w, out, dx, dw, db);
        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = a -> {
            double s = 0;
            for (int t = 0; t < n; t++) {
                for (int o = 0; o < out; o++) {
                    double y = a[2][o];
                    for (int i = 0; i < in; i++) y += a[0][t * in + i] * a[1][o * in + i];
                    s += gd[t * out + o] * y;
                }
            }
            return s;
        };
        double[][] inputs = {d(x), d(w), d(b)};
        assertGradient("linear dx", inputs, 0, loss, dx);
        assertGradient("linear dW", inputs, 1, loss, dw);
        assertGradient("linear db", inputs, 2, loss, db);

        // forward agrees with the reference too
        float[] y = new float[n * out];
        Linear.forward(x, n, in, w, b, out, y);
        for (int t = 0; t < n; t++) {
            for (int o = 0; o < out; o++) {
                double ref = b[o];
                for (int i = 0; i < in; i++) ref += (double) x[t * in + i] * w[o * in + i];
                assertThat((double) y[t * out + o]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void linearBackwardAccumulatesIntoDx() {
        int n = 3, in = 4, out = 2;
        float[] x = randn(n * in, 1), w = randn(out * in, 1), g = randn(n * out, 1);
        float[] once = new float[n * in], twice = new float[n * in];
        Linear.backward(g, x, n, in, w, out, once, new float[out * in], null);
        Linear.backward(g, x, n, in, w, out, twice, new float[out * in], null);
        Linear.backward(g, x, n, in, w, out, twice, new float[out * in], null);
        for (int i = 0; i < once.length; i++) assertThat(twice[i]).isCloseTo(2 * once[i], org.assertj.core.data.Offset.offset(1e-6f));
    }

    // ------------------------------------------------------------------------------- rmsnorm

    @Test
    void rmsNorm() {
        int n = 3, dim = 8;
        float eps = 1e-5f;
        float[] x = randn(n * dim, 1), w = randn(dim, 1), g = randn(n * dim, 1);
        float[] y = new float[n * dim], r = new float[n];
        RmsNorm.forward(x, n, dim, w, eps, y, r);
        float[] dx = new float[n * dim], dw = new float[dim];
        RmsNorm.backward(g, x, n, dim, w, r, dx, dw);
        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = a -> {
            double s = 0;
            for (int t = 0; t < n; t++) {
                double ms = 0;
                for (int i = 0; i < dim; i++) ms += a[0][t * dim + i] * a[0][t * dim + i];
                double inv = 1 / Math.sqrt(ms / dim + eps);
                for (int i = 0; i < dim; i++) s += gd[t * dim + i] * a[0][t * dim + i] * inv * a[1][i];
            }
            return s;
        };
        double[][] inputs = {d(x), d(w)};
        assertGradient("rmsnorm dx", inputs, 0, loss, dx);
        assertGradient("rmsnorm dw", inputs, 1, loss, dw);
    }

    // ------------------------------------------------------------------------------- rope

    /** HF rotary in double: NEOX via rotate_half (modeling_llama.py), NORMAL via complex pairs (Meta's llama model.py / GLM). */
    private static double[] ropeReference(double[] v, int n, int heads, int hd, int rot, int seqLen, double[] invFreq, RopeStyle style) {
        double[] out = v.clone();
        int half = rot / 2;
        for (int t = 0; t < n; t++) {
            int pos = t % seqLen;
            for (int h = 0; h < heads; h++) {
                int off = t * heads * hd + h * hd;
                if (style == RopeStyle.NEOX) {
                    // q_embed = q * cos + rotate_half(q) * sin, cos/sin = cat(freqs, freqs); rotate_half = cat(-x2, x1)
                    for (int i = 0; i < rot; i++) {
                        double angle = pos * invFreq[i % half];
                        double rotated = i < half ? -v[off + i + half] : v[off + i - half];
                        out[off + i] = v[off + i] * Math.cos(angle) + rotated * Math.sin(angle);
                    }
                } else {
                    // (x[2i] + j x[2i+1]) * e^{j angle}
                    for (int i = 0; i < half; i++) {
                        double angle = pos * invFreq[i];
                        double re = v[off + 2 * i], im = v[off + 2 * i + 1];
                        out[off + 2 * i] = re * Math.cos(angle) - im * Math.sin(angle);
                        out[off + 2 * i + 1] = re * Math.sin(angle) + im * Math.cos(angle);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void ropeBothStylesFullAndPartial() {
        for (RopeStyle style : RopeStyle.values()) {
            for (int rot : new int[]{8, 4}) { // full, and GLM-style half-head partial rotary
                int n = 6, heads = 2, hd = 8, seqLen = 3;
                double[] invFreq = new double[rot / 2];
                for (int i = 0; i < invFreq.length; i++) invFreq[i] = 1.0 / Math.pow(10000.0, 2.0 * i / rot);
                Rope rope = new Rope(style, hd, invFreq, 16);
                float[] x = randn(n * heads * hd, 1), g = randn(n * heads * hd, 1);
                float[] y = x.clone();
                rope.forward(y, n, heads, seqLen);
                double[] ref = ropeReference(d(x), n, heads, hd, rot, seqLen, invFreq, style);
                for (int i = 0; i < y.length; i++) assertThat((double) y[i]).as(style + " rot " + rot + " forward").isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-5));
                float[] dx = g.clone();
                rope.backward(dx, n, heads, seqLen);
                double[] gd = d(g);
                assertGradient("rope " + style + " rot " + rot, new double[][]{d(x)}, 0,
                        a -> dot(gd, ropeReference(a[0], n, heads, hd, rot, seqLen, invFreq, style)), dx);
            }
        }
    }

    // ------------------------------------------------------------------------------- attention

    private static double[] attentionReference(double[] q, double[] k, double[] v, int n, int seqLen, int heads, int kvHeads, int hd) {
        double[] out = new double[n * heads * hd];
        for (int b = 0; b < n / seqLen; b++) {
            for (int h = 0; h < heads; h++) {
                int kh = h / (heads / kvHeads); // repeat_kv
                for (int t = 0; t < seqLen; t++) {
                    double[] s = new double[seqLen];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p < seqLen; p++) {
                        if (p > t) { s[p] = Double.NEGATIVE_INFINITY; continue; } // causal mask
                        double dotp = 0;
                        for (int i = 0; i < hd; i++) dotp += q[((b * seqLen + t) * heads + h) * hd + i] * k[((b * seqLen + p) * kvHeads + kh) * hd + i];
                        s[p] = dotp / Math.sqrt(hd);
                        max = Math.max(max, s[p]);
                    }
                    double z = 0;
                    for (int p = 0; p <= t; p++) z += Math.exp(s[p] - max);
                    for (int p = 0; p <= t; p++) {
                        double prob = Math.exp(s[p] - max) / z;
                        for (int i = 0; i < hd; i++) out[((b * seqLen + t) * heads + h) * hd + i] += prob * v[((b * seqLen + p) * kvHeads + kh) * hd + i];
                    }
                }
            }
        }
        return out;
    }

    @Test
    void causalAttentionWithGroupedKvHeads() {
        int heads = 4, kvHeads = 2, hd = 4, seqLen = 4, n = 8; // two sequences
        CausalAttention attn = new CausalAttention(heads, kvHeads, hd);
        float[] q = randn(n * heads * hd, 1), k = randn(n * kvHeads * hd, 1), v = randn(n * kvHeads * hd, 1), g = randn(n * heads * hd, 1);
        float[] probs = new float[(int) attn.probsSize(n, seqLen)], out = new float[n * heads * hd];
        attn.forward(q, k, v, n, seqLen, probs, out);
        double[] ref = attentionReference(d(q), d(k), d(v), n, seqLen, heads, kvHeads, hd);
        for (int i = 0; i < out.length; i++) assertThat((double) out[i]).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-5));
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        attn.backward(g, q, k, v, n, seqLen, probs, dq, dk, dv);
        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = a -> dot(gd, attentionReference(a[0], a[1], a[2], n, seqLen, heads, kvHeads, hd));
        double[][] inputs = {d(q), d(k), d(v)};
        assertGradient("attention dq", inputs, 0, loss, dq);
        assertGradient("attention dk", inputs, 1, loss, dk);
        assertGradient("attention dv", inputs, 2, loss, dv);
    }

    // ------------------------------------------------------------------------------- swiglu

    @Test
    void swigluSeparateAndFused() {
        int n = 3, f = 5;
        float[] gate = randn(n * f, 2), up = randn(n * f, 1), g = randn(n * f, 1);
        float[] dgate = new float[n * f], dup = new float[n * f];
        SwiGlu.backward(g, gate, 0, up, 0, f, n, f, dgate, dup);
        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = a -> {
            double s = 0;
            for (int i = 0; i < n * f; i++) s += gd[i] * a[0][i] / (1 + Math.exp(-a[0][i])) * a[1][i];
            return s;
        };
        double[][] inputs = {d(gate), d(up)};
        assertGradient("swiglu dgate", inputs, 0, loss, dgate);
        assertGradient("swiglu dup", inputs, 1, loss, dup);

        // Fused rows [gate | up] give the same values and gradients in the same places.
        float[] fused = new float[n * 2 * f];
        for (int t = 0; t < n; t++) {
            System.arraycopy(gate, t * f, fused, t * 2 * f, f);
            System.arraycopy(up, t * f, fused, t * 2 * f + f, f);
        }
        float[] h1 = new float[n * f], h2 = new float[n * f];
        SwiGlu.forward(gate, 0, up, 0, f, n, f, h1);
        SwiGlu.forward(fused, 0, fused, f, 2 * f, n, f, h2);
        assertThat(h2).containsExactly(h1);
        float[] dfused = new float[n * 2 * f];
        SwiGlu.backward(g, fused, 0, fused, f, 2 * f, n, f, dfused, dfused);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < f; i++) {
                assertThat(dfused[t * 2 * f + i]).isEqualTo(dgate[t * f + i]);
                assertThat(dfused[t * 2 * f + f + i]).isEqualTo(dup[t * f + i]);
            }
        }
    }

    // ------------------------------------------------------------------------------- cross-entropy, embedding

    @Test
    void crossEntropy() {
        int n = 4, vocab = 6;
        float[] z = randn(n * vocab, 2);
        int[] targets = {3, -1, 0, 5}; // -1: no target at this row
        float[] dz = new float[n * vocab];
        double lossValue = CrossEntropy.forwardBackward(z, n, vocab, targets, dz);
        ToDoubleFunction<double[][]> loss = a -> {
            double s = 0;
            int m = 0;
            for (int t = 0; t < n; t++) {
                if (targets[t] < 0) continue;
                double sum = 0;
                for (int i = 0; i < vocab; i++) sum += Math.exp(a[0][t * vocab + i]);
                s += Math.log(sum) - a[0][t * vocab + targets[t]];
                m++;
            }
            return s / m;
        };
        double[][] inputs = {d(z)};
        assertThat(lossValue).isCloseTo(loss.applyAsDouble(inputs), org.assertj.core.data.Offset.offset(1e-5));
        assertGradient("cross-entropy dlogits", inputs, 0, loss, dz);
    }

    @Test
    void embeddingScatterAddsRepeatedTokens() {
        int vocab = 5, dim = 3;
        float[] table = randn(vocab * dim, 1);
        int[] tokens = {2, 0, 2, 4};
        float[] g = randn(tokens.length * dim, 1);
        float[] dtable = new float[vocab * dim];
        Embedding.backward(g, dim, tokens, dtable);
        double[] gd = d(g);
        ToDoubleFunction<double[][]> loss = a -> {
            double s = 0;
            for (int t = 0; t < tokens.length; t++) for (int i = 0; i < dim; i++) s += gd[t * dim + i] * a[0][tokens[t] * dim + i];
            return s;
        };
        assertGradient("embedding dE", new double[][]{d(table)}, 0, loss, dtable);
    }
}
