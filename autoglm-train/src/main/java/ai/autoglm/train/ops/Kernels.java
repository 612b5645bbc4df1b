package ai.autoglm.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two inner loops every training op reduces to, over heap {@code float[]} rows: a dot product and
 * {@code y += a*x} (axpy), with the Vector API. Each result depends only on its inputs and the (fixed) lane
 * count, never on which thread runs it nor on whether the JIT has compiled it yet, so training is bit-reproducible
 * on one machine (same JDK, same preferred vector width).
 *
 * <p>Why the dot product does not end in {@code reduceLanes(ADD)}: its javadoc leaves the order in which lanes are
 * added unspecified for floating point, and HotSpot uses that freedom: the interpreter and C1 run the Java fallback
 * (lanes added 0, 1, 2, ... in turn) while C2's x86 intrinsic adds them in a tree. A method's first calls run
 * interpreted and later ones compiled, at moments that depend on thread scheduling, so the same step gave sums
 * that differed in the last bit from run to run (issue 15, item 16). Lane-wise {@code fma}, {@code add} and
 * {@code rearrange} are exact IEEE operations (or data moves) in every execution mode, so the lanes are added in a fixed
 * pairwise order by lane-wise adds of the vector and a shuffled copy of it instead (no allocation).
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
            sum = sumInFixedOrder(acc);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /**
     * Butterfly shuffles {@code i -> i ^ half} for half = lanes/2, lanes/4, ..., 1: adding a vector to itself so
     * shuffled halves the distinct partial sums each time, and after log2(lanes) steps every lane holds the total.
     */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterflies();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterflies() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0, half = F.length() / 2; k < steps; k++, half /= 2) {
            int h = half;
            s[k] = VectorShuffle.fromOp(F, i -> i ^ h);
        }
        return s;
    }

    /**
     * The sum of the lanes of {@code v} in a fixed pairwise order (see the class comment): lane-wise {@code add} and
     * {@code rearrange} are exact in every execution mode, unlike {@code reduceLanes(ADD)}, and allocate nothing.
     */
    static float sumInFixedOrder(FloatVector v) {
        for (VectorShuffle<Float> s : BUTTERFLY) v = v.add(v.rearrange(s));
        return v.lane(0);
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
