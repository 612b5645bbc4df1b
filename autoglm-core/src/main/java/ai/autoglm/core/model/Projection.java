package ai.autoglm.core.model;

/**
 * One linear map {@code y = W x} of the forward pass (a q/k/v/o, gate/up/down or output projection), applied to a
 * chunk of rows at once. Usually one weight matrix ({@link DenseProjection}); compression and adapters replace it
 * by other shapes of the same map (two low-rank factors, a base plus a LoRA update) without the forward pass
 * knowing, and calibration tools wrap it to observe its inputs (see {@link ProjectionDecorator}).
 */
public interface Projection {

    /** Length of an input row. */
    int inputDim();

    /** Length of an output row. */
    int outputDim();

    /**
     * For each row {@code t < n}: {@code out[outOff + t*outputDim() ..]} = W · {@code x[xOff + t*inputDim() ..]}.
     * Overwrites the output rows; may run on several threads; keeps no reference to the arrays.
     */
    void apply(float[] x, int xOff, float[] out, int outOff, int n);
}
