package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

/**
 * A projection by one weight matrix of {@code outputDim} rows of {@code inputDim} (GGUF order: a row is an
 * output's weights), in whatever {@link ai.autoglm.core.tensor.GgmlType} the file stores it, split over the
 * compute threads by output rows.
 */
public record DenseProjection(FloatTensor weight, int inputDim, int outputDim) implements Projection {

    /** Q4_0 / Q8_0 weights for the native kernels are repacked here, at load ({@link PackedWeights}). */
    public DenseProjection {
        PackedWeights.prepare(weight, inputDim, outputDim);
    }

    @Override
    public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
        Parallel.matmul(weight, x, xOff, inputDim, out, outOff, outputDim, n);
    }
}
