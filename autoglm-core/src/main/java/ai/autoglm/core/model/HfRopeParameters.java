package ai.autoglm.core.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * RoPE settings read from a Hugging Face config.json, in both spellings transformers has used: {@code rope_theta} +
 * {@code rope_scaling} (transformers 4.x) and {@code rope_parameters} (transformers 5, which moves {@code rope_theta}
 * and sometimes {@code partial_rotary_factor} inside it: modeling_rope_utils.py {@code RopeParameters}). The one
 * reader of these keys: {@link ModelConfig#fromHfConfig} (loading a directory) and the GGUF converter both call it, so
 * a directory loaded directly and the same directory converted get the same rope.
 */
public final class HfRopeParameters {
    private HfRopeParameters() {
    }

    /** {@code rope_theta}, 10000 when absent (the LlamaConfig default). */
    public static double theta(JsonNode config) {
        JsonNode params = config.get("rope_parameters");
        if (params != null && params.hasNonNull("rope_theta")) return params.get("rope_theta").asDouble();
        return config.path("rope_theta").asDouble(10000.0);
    }

    /**
     * {@code partial_rotary_factor} at the top level or inside {@code rope_parameters}, {@code def} when absent;
     * null when present but not a number (the caller names the file in its error).
     */
    public static Double partialRotaryFactor(JsonNode config, double def) {
        JsonNode v = config.hasNonNull("partial_rotary_factor") ? config.get("partial_rotary_factor")
                : config.path("rope_parameters").get("partial_rotary_factor");
        if (v == null || v.isNull()) return def;
        return v.isNumber() ? v.asDouble() : null;
    }

    /** The rope scaling object ({@code rope_scaling} or {@code rope_parameters}), or null. */
    public static JsonNode scaling(JsonNode config) {
        JsonNode s = config.get("rope_scaling");
        if (s != null && s.isObject()) return s;
        s = config.get("rope_parameters");
        return s != null && s.isObject() ? s : null;
    }

    /** The rope type ({@code rope_type}, or the older {@code type}), lower case; null when there is no scaling. */
    public static String type(JsonNode config) {
        JsonNode s = scaling(config);
        if (s == null) return null;
        JsonNode t = s.hasNonNull("rope_type") ? s.get("rope_type") : s.get("type");
        return t == null || !t.isTextual() ? null : t.asText().toLowerCase(java.util.Locale.ROOT);
    }

    /** Per-head RoPE dimension: {@code head_dim}, else {@code hidden_size / num_attention_heads}. */
    public static int headDim(JsonNode config) {
        if (config.hasNonNull("head_dim")) return config.get("head_dim").asInt();
        return config.path("hidden_size").asInt() / config.path("num_attention_heads").asInt(1);
    }

    /**
     * The Llama 3.1 frequency factors llama.cpp stores as the {@code rope_freqs.weight} tensor (F32, head_dim / 2
     * values), or null when the config does not use {@code rope_type: "llama3"}. Same computation as
     * convert_hf_to_gguf.py {@code LlamaModel.generate_extra_tensors} (itself transformers'
     * {@code _compute_llama3_parameters}): with {@code freq_i = 1 / theta^(2i/dim)} and {@code wavelen = 2 pi / freq},
     * the factor is 1 for short wavelengths (below original_context / high_freq_factor), {@code factor} for long ones
     * (above original_context / low_freq_factor), and a smooth blend in between. llama.cpp divides the rotation
     * frequency by these factors at inference time. Arithmetic in float32, as the converter does it in torch.
     */
    public static float[] llama3Factors(JsonNode config) {
        if (!"llama3".equals(type(config))) return null;
        JsonNode s = scaling(config);
        double base = theta(config);
        int dim = headDim(config);
        float factor = (float) s.path("factor").asDouble(8.0);
        float lowFreqFactor = (float) s.path("low_freq_factor").asDouble(1.0);
        float highFreqFactor = (float) s.path("high_freq_factor").asDouble(4.0);
        double oldContext = s.hasNonNull("original_max_position_embeddings")
                ? s.get("original_max_position_embeddings").asDouble()
                : config.path("original_max_position_embeddings").asDouble(8192);
        float lowFreqWavelen = (float) (oldContext / lowFreqFactor);
        float highFreqWavelen = (float) (oldContext / highFreqFactor);
        float[] out = new float[dim / 2];
        for (int i = 0; i < out.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            float freq = 1.0f / (float) Math.pow(base, exponent);
            float wavelen = (float) (2 * Math.PI) / freq;
            if (wavelen < highFreqWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowFreqWavelen) {
                out[i] = factor;
            } else {
                float smooth = ((float) oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = 1f / ((1 - smooth) / factor + smooth);
            }
        }
        return out;
    }

    /**
     * The YaRN scaling of a config whose rope type is {@code yarn}, read as transformers {@code _compute_yarn_parameters}
     * does: {@code factor} (required, as its _validate_yarn_parameters requires it),
     * {@code original_max_position_embeddings} (else the config's {@code max_position_embeddings}), {@code beta_fast}
     * (32) and {@code beta_slow} (1) when absent or 0, {@code attention_factor}, else
     * {@code get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)} when both are set and non-zero, else
     * {@code get_mscale(factor)}; {@code truncate} (true). Throws IllegalArgumentException naming the bad key.
     *
     * @param rotaryDim the rotary dimension the frequencies are for (only its parity is checked here)
     */
    public static RopeScaling.Yarn yarn(JsonNode config, int rotaryDim) {
        JsonNode s = scaling(config);
        if (s == null) throw new IllegalArgumentException("no rope_scaling for YaRN");
        double maxPositions = config.path("max_position_embeddings").asDouble(0);
        double original = s.hasNonNull("original_max_position_embeddings") ? number(s, "original_max_position_embeddings") : maxPositions;
        if (!(original > 0) || original > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rope_scaling.original_max_position_embeddings must be a positive integer, is " + original);
        }
        // transformers _validate_yarn_parameters: factor is a required key
        if (!s.hasNonNull("factor")) throw new IllegalArgumentException("rope_scaling of type yarn needs a factor");
        double factor = number(s, "factor");
        if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling.factor of type yarn must be positive, is " + factor);
        double betaFast = s.hasNonNull("beta_fast") && number(s, "beta_fast") != 0 ? number(s, "beta_fast") : 32;
        double betaSlow = s.hasNonNull("beta_slow") && number(s, "beta_slow") != 0 ? number(s, "beta_slow") : 1;
        double attention;
        if (s.hasNonNull("attention_factor")) {
            attention = number(s, "attention_factor");
        } else {
            double m = s.hasNonNull("mscale") ? number(s, "mscale") : 0, all = s.hasNonNull("mscale_all_dim") ? number(s, "mscale_all_dim") : 0;
            attention = m != 0 && all != 0 ? RopeScaling.Yarn.mscale(factor, m) / RopeScaling.Yarn.mscale(factor, all)
                    : RopeScaling.Yarn.mscale(factor, 1);
        }
        boolean truncate = s.path("truncate").asBoolean(true);
        if (rotaryDim <= 0 || rotaryDim % 2 != 0) throw new IllegalArgumentException("rotary dimension " + rotaryDim + " is not even");
        return new RopeScaling.Yarn(factor, (int) original, betaFast, betaSlow, theta(config), 1.0, attention, truncate);
    }

    private static double number(JsonNode s, String key) {
        JsonNode v = s.get(key);
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw new IllegalArgumentException("rope_scaling." + key + " must be a number, is " + v);
        return v.asDouble();
    }
}
