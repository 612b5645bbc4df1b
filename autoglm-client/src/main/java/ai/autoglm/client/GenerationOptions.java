package ai.autoglm.client;

import java.util.List;

/**
 * How to generate. A null field means the server's default, which is OpenAI's (temperature 1, top_p 1, no top-k,
 * as many tokens as the context leaves); the in-process engine applies the same defaults, so a request means the
 * same thing on either route.
 *
 * @param maxTokens   the most tokens to generate
 * @param temperature 0 for greedy decoding, up to 2
 * @param topP        nucleus sampling mass, in (0, 1]
 * @param topK        keep only the k most likely tokens (vLLM extension; 0 or null: off)
 * @param seed        makes sampling repeatable
 * @param stop        texts that end the answer (not part of it); at most 16
 */
public record GenerationOptions(Integer maxTokens, Double temperature, Double topP, Integer topK, Long seed, List<String> stop) {
    public static final GenerationOptions DEFAULTS = new GenerationOptions(null, null, null, null, null, List.of());

    public GenerationOptions {
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (maxTokens != null && maxTokens < 1) throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        if (temperature != null && (temperature < 0 || temperature > 2)) throw new IllegalArgumentException("temperature must be in [0, 2], got " + temperature);
        if (topP != null && (topP <= 0 || topP > 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (topK != null && topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        if (stop.size() > 16) throw new IllegalArgumentException("at most 16 stop strings, got " + stop.size());
    }

    /** Greedy decoding (temperature 0): the same answer every time, on every route. */
    public static GenerationOptions greedy() {
        return DEFAULTS.withTemperature(0.0);
    }

    public GenerationOptions withMaxTokens(Integer n) {
        return new GenerationOptions(n, temperature, topP, topK, seed, stop);
    }

    public GenerationOptions withTemperature(Double t) {
        return new GenerationOptions(maxTokens, t, topP, topK, seed, stop);
    }

    public GenerationOptions withTopP(Double p) {
        return new GenerationOptions(maxTokens, temperature, p, topK, seed, stop);
    }

    public GenerationOptions withTopK(Integer k) {
        return new GenerationOptions(maxTokens, temperature, topP, k, seed, stop);
    }

    public GenerationOptions withSeed(Long s) {
        return new GenerationOptions(maxTokens, temperature, topP, topK, s, stop);
    }

    public GenerationOptions withStop(List<String> s) {
        return new GenerationOptions(maxTokens, temperature, topP, topK, seed, s);
    }
}
