package ai.autoglm.core.model;

/**
 * How rotary frequencies are scaled beyond the plain {@code base^(-2i/d)}. Each case turns the default
 * inverse frequencies into the scaled ones via {@link #apply}.
 */
public sealed interface RopeScaling {

    /** Scales the default inverse frequencies {@code invFreq[i] = theta^(-2i/rotaryDim)} in place. */
    void apply(double[] invFreq);

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
}
