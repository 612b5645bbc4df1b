package ai.autoglm.train.ops;

import jdk.incubator.vector.FloatVector;
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
 * that differed in the last bit from run to run (issue 15, item 16). Lane-wise {@code fma} and
 * {@code intoArray} are exact in every execution mode, so the lanes are stored (into a per-thread array: no
 * allocation) and added in lane order by plain scalar code instead. (A butterfly of lane-wise adds and shuffles is
 * exact too, but allocates a vector box per step until C2 compiles it, which broke the no-allocation test.)
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
            sum = sumInLaneOrder(acc);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** Per-thread room for one vector's lanes (a per-call array would allocate on every dot product). */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[F.length()]);

    /** {@code v[0] + v[1] + ... + v[lanes-1]}, added left to right (see the class comment). */
    static float sumInLaneOrder(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float sum = 0f;
        for (float lane : lanes) sum += lane;
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
