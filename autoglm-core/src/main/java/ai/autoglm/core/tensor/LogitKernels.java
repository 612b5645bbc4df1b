package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API passes of the sampler over a whole vocabulary, once per sequence per step: with 128K-entry
 * vocabularies (Llama 3, Qwen, GLM-4) the scalar passes (a double {@code Math.exp} per entry for the log-sum-exp
 * of the logprobs) cost about a millisecond per slot, which a decode step over 8 slots pays 8 times on its
 * critical path. Only loaded when {@link VectorSupport#ENABLED}; the scalar loops in the sampler are the reference.
 */
public final class LogitKernels {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = VectorKernels.FLOAT_LANES;
    /** Elements summed in float lanes before the partial sum joins the double total (bounds the float rounding). */
    private static final int SUM_BLOCK = 1024;

    private LogitKernels() {
    }

    /**
     * Copies {@code logits[0 .. n)} to {@code raw} and {@code work} with NaN replaced by -infinity (a NaN logit can
     * never be chosen) and returns their maximum.
     */
    public static float copyWithoutNaN(float[] logits, float[] raw, float[] work, int n) {
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int upper = F.loopBound(n), i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, logits, i);
            VectorMask<Float> nan = v.test(VectorOperators.IS_NAN);
            v = v.blend(Float.NEGATIVE_INFINITY, nan);
            v.intoArray(raw, i);
            v.intoArray(work, i);
            max = max.max(v);
        }
        float m = max.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            float v = logits[i];
            if (Float.isNaN(v)) v = Float.NEGATIVE_INFINITY;
            raw[i] = v;
            work[i] = v;
            if (v > m) m = v;
        }
        return m;
    }

    /**
     * {@code sum exp(raw[i] - max)} over {@code i < n}: float exponentials (relative error a few ulp, SVML on x86),
     * summed in float lanes per block of {@link #SUM_BLOCK} and in double across blocks.
     */
    public static double sumExp(float[] raw, int n, float max) {
        double total = 0;
        for (int b = 0; b < n; b += SUM_BLOCK) {
            int end = Math.min(n, b + SUM_BLOCK), upper = b + F.loopBound(end - b), i = b;
            FloatVector acc = FloatVector.zero(F);
            for (; i < upper; i += L) acc = acc.add(FloatVector.fromArray(F, raw, i).sub(max).lanewise(VectorOperators.EXP));
            total += acc.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) total += Math.exp(raw[i] - max);
        }
        return total;
    }
}
