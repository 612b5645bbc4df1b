package ai.autoglm.core.generate;

/**
 * How the next token is chosen from the model's logits. Defaults follow llama.cpp's {@code common_params_sampling}
 * (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, penalties off, last 64 tokens penalised).
 *
 * @param temperature       divides the logits before sampling; 0 means greedy (argmax); must be finite and &gt;= 0
 * @param topK              keep the k most likely tokens; 0 disables
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 disables; in (0, 1]
 * @param minP              drop tokens less likely than minP times the most likely one; 0 disables; in [0, 1]
 * @param repetitionPenalty llama.cpp/HF repetition penalty over the last {@code penaltyLastN} tokens: a positive
 *                          logit is divided by it, a negative one multiplied; 1 disables; must be &gt; 0
 * @param penaltyLastN      how many of the most recent tokens the three penalties look at; 0 disables them,
 *                          -1 means the whole history
 * @param presencePenalty   OpenAI: subtracted once from the logit of every token seen; in [-2, 2]
 * @param frequencyPenalty  OpenAI: subtracted from a token's logit once per time it was seen; in [-2, 2]
 * @param seed              seed of the random generator, or null for a random seed
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                              int penaltyLastN, float presencePenalty, float frequencyPenalty, Long seed) {

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final float DEFAULT_MIN_P = 0.05f;
    public static final int DEFAULT_PENALTY_LAST_N = 64;

    public SamplerSettings {
        if (!Float.isFinite(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 disables it), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("minP must be in [0, 1], got " + minP);
        if (!Float.isFinite(repetitionPenalty) || repetitionPenalty <= 0) {
            throw new IllegalArgumentException("repetitionPenalty must be a finite number > 0 (1 disables it), got "
                + repetitionPenalty);
        }
        if (penaltyLastN < -1) {
            throw new IllegalArgumentException("penaltyLastN must be >= -1 (-1: whole history), got " + penaltyLastN);
        }
        if (!(presencePenalty >= -2 && presencePenalty <= 2)) {
            throw new IllegalArgumentException("presencePenalty must be in [-2, 2], got " + presencePenalty);
        }
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) {
            throw new IllegalArgumentException("frequencyPenalty must be in [-2, 2], got " + frequencyPenalty);
        }
    }

    /** llama.cpp's defaults with a random seed. */
    public static SamplerSettings defaults() {
        return new SamplerSettings(DEFAULT_TEMPERATURE, DEFAULT_TOP_K, DEFAULT_TOP_P, DEFAULT_MIN_P, 1f,
            DEFAULT_PENALTY_LAST_N, 0f, 0f, null);
    }

    /** Always the most likely token (no filters, no penalties). */
    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, 0, 1f, 0f, 1f, DEFAULT_PENALTY_LAST_N, 0f, 0f, null);
    }

    public SamplerSettings withTemperature(float t) {
        return new SamplerSettings(t, topK, topP, minP, repetitionPenalty, penaltyLastN, presencePenalty, frequencyPenalty, seed);
    }

    public SamplerSettings withTopK(int k) {
        return new SamplerSettings(temperature, k, topP, minP, repetitionPenalty, penaltyLastN, presencePenalty, frequencyPenalty, seed);
    }

    public SamplerSettings withTopP(float p) {
        return new SamplerSettings(temperature, topK, p, minP, repetitionPenalty, penaltyLastN, presencePenalty, frequencyPenalty, seed);
    }

    public SamplerSettings withMinP(float p) {
        return new SamplerSettings(temperature, topK, topP, p, repetitionPenalty, penaltyLastN, presencePenalty, frequencyPenalty, seed);
    }

    public SamplerSettings withPenalties(float repetition, int lastN, float presence, float frequency) {
        return new SamplerSettings(temperature, topK, topP, minP, repetition, lastN, presence, frequency, seed);
    }

    public SamplerSettings withSeed(Long s) {
        return new SamplerSettings(temperature, topK, topP, minP, repetitionPenalty, penaltyLastN, presencePenalty, frequencyPenalty, s);
    }

    /** Whether sampling is plain argmax. */
    public boolean isGreedy() {
        return temperature == 0f;
    }
}
