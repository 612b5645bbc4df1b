package ai.autoglm.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two inner loops every training op reduces to, over heap {@code float[]} rows: a dot product and
 * {@code y += a*x} (axpy), with the Vector API. Each result depends only on its inputs and the (fixed) lane
 * count, never on which thread runs it, so training is bit-reproducible on one machine.
 */
final class Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Kernels() {
    }

    /** {@code sum a[ao+i] * b[bo+i]} for {@code i < n}. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** {@code y[yo+i] += alpha * x[xo+i]} for {@code i < n}. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (n >= F.length()) {
            FloatVector a = FloatVector.broadcast(F, alpha);
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                FloatVector.fromArray(F, x, xo + i).fma(a, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }
}
