package ai.autoglm.train;

/**
 * Replaces the values of some parameters in the forward pass of a {@link TrainableTransformer} (see
 * {@link TrainableTransformer#setWeightTransform}); the parameters themselves stay the F32 master copy the optimizer
 * updates. Quantization-aware training uses it for fake quantization.
 */
public interface WeightTransform {

    /** Whether {@link #apply} is to be called for {@code p}. */
    boolean appliesTo(Parameter p);

    /** Writes the values the forward pass is to use for {@code p} into {@code out} ({@code p.size()} floats). */
    void apply(Parameter p, float[] out);
}
