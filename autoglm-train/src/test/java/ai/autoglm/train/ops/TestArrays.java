package ai.autoglm.train.ops;

import java.util.Random;

/** Inputs and conversions the gradient checks share. */
final class TestArrays {
    private TestArrays() {
    }

    /** {@code n} floats drawn from N(0, std^2). */
    static float[] randn(Random random, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (random.nextGaussian() * std);
        return v;
    }

    /** The floats as doubles (exactly), for the double-precision references. */
    static double[] d(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }
}
