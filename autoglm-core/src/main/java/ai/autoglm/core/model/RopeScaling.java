package ai.autoglm.core.model;

/**
 * How rotary frequencies are scaled beyond the plain {@code base^(-2i/d)}. Each case turns the default
 * inverse frequencies into the scaled ones via {@link #apply}.
 */
public sealed interface RopeScaling {

    /** Scales the default inverse frequencies {@code invFreq[i] = theta^(-2i/rotaryDim)} in place. */
    void apply(double[] invFreq);

    /**
     * The factor cos and sin are multiplied by (transformers' {@code attention_scaling}, llama.cpp's {@code mscale} in
     * ggml rope_yarn): 1 except for YaRN.
     */
    default double attentionFactor() {
        return 1.0;
    }

    /** HF {@code rope_type: linear} / GGUF {@code rope.scaling.type = linear}: position interpolation. */
    record Linear(double factor) implements RopeScaling {
        @Override
        public void apply(double[] invFreq) {
            for (int i = 0; i < invFreq.length; i++) invFreq[i] /= factor;
        }
    }

    /**
     * Llama 3.1 {@code rope_type: llama3}, as transformers modeling_rope_utils.py
     * {@code _compute_llama3_parameters}: wavelengths shorter than {@code original/high} are kept, longer
     * than {@code original/low} divided by {@code factor}, and in between blended by
     * {@code smooth = (original/wavelen - low) / (high - low)}.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
            implements RopeScaling {
        @Override
        public void apply(double[] invFreq) {
            double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
            double highFreqWavelen = originalMaxPositions / highFreqFactor;
            for (int i = 0; i < invFreq.length; i++) {
                double f = invFreq[i];
                double wavelen = 2 * Math.PI / f;
                if (wavelen < highFreqWavelen) continue;
                if (wavelen > lowFreqWavelen) {
                    invFreq[i] = f / factor;
                } else {
                    double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    invFreq[i] = (1 - smooth) * f / factor + smooth * f;
                }
            }
        }
    }

    /**
     * Per-dimension divisors as GGUF files carry Llama 3.1 scaling: the {@code rope_freqs.weight} tensor
     * (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors; ggml_rope_ext divides theta by
     * {@code freq_factors[i]}).
     */
    record FreqFactors(float[] divisors) implements RopeScaling {
        public FreqFactors {
            divisors = divisors.clone();
        }

        @Override
        public void apply(double[] invFreq) {
            if (divisors.length != invFreq.length) {
                throw new IllegalArgumentException("rope_freqs has " + divisors.length + " entries, rotary pairs are " + invFreq.length);
            }
            for (int i = 0; i < invFreq.length; i++) invFreq[i] /= divisors[i];
        }
    }

    /**
     * YaRN (Peng et al. 2023, arXiv:2309.00071), as transformers modeling_rope_utils.py {@code _compute_yarn_parameters}
     * and ggml's {@code rope_yarn}: rotary pair i of {@code rotaryDim = 2 * invFreq.length} gets
     * {@code f_i / factor * (1 - m_i) + f_i * m_i} where {@code m_i = (1 - clamp((i - low) / (high - low), 0, 1)) * extFactor}
     * and {@code low}/{@code high} are the correction dimensions of {@code betaFast}/{@code betaSlow} rotations
     * ({@code find_correction_dim: dim * ln(originalMaxPositions / (beta * 2 pi)) / (2 ln theta)}, floored/ceiled when
     * {@code truncate}, clamped to {@code [0, dim - 1]}; equal bounds get 0.001 added). cos and sin are multiplied by
     * {@link #attentionFactor}.
     *
     * @param extFactor       llama.cpp's {@code ext_factor} (the mix of extrapolation): 1 for transformers
     * @param attentionFactor the cos/sin scale: HF {@code attention_factor}, else {@link #mscale}{@code (factor)}
     */
    record Yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow, double theta, double extFactor,
                double attentionFactor, boolean truncate) implements RopeScaling {
        public Yarn {
            if (!(factor > 0) || originalMaxPositions <= 0 || !(betaFast > 0) || !(betaSlow > 0) || !(theta > 1)
                    || !Double.isFinite(extFactor) || !(attentionFactor > 0)) {
                throw new IllegalArgumentException("invalid YaRN parameters: factor " + factor + ", original context " + originalMaxPositions
                        + ", beta_fast " + betaFast + ", beta_slow " + betaSlow + ", theta " + theta + ", ext_factor " + extFactor
                        + ", attention factor " + attentionFactor);
            }
        }

        /** transformers {@code get_mscale}: {@code 0.1 * m * ln(scale) + 1} for scale above 1, else 1. */
        public static double mscale(double scale, double m) {
            return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
        }

        /** The correction dimension of {@code rotations} full turns within the original context. */
        private double correctionDim(double rotations, int dim) {
            return dim * Math.log(originalMaxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
        }

        @Override
        public void apply(double[] invFreq) {
            int dim = 2 * invFreq.length;
            double low = correctionDim(betaFast, dim), high = correctionDim(betaSlow, dim);
            if (truncate) {
                low = Math.floor(low);
                high = Math.ceil(high);
            }
            low = Math.max(low, 0);
            high = Math.min(high, dim - 1);
            if (low == high) high += 0.001; // transformers linear_ramp_factor; ggml rope_yarn_ramp: MAX(0.001f, high - low)
            for (int i = 0; i < invFreq.length; i++) {
                double ramp = Math.clamp((i - low) / (high - low), 0.0, 1.0);
                double extrapolation = (1 - ramp) * extFactor;
                double f = invFreq[i];
                invFreq[i] = f / factor * (1 - extrapolation) + f * extrapolation;
            }
        }
    }
}
