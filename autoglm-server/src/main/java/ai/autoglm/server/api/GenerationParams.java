package ai.autoglm.server.api;

import ai.autoglm.core.generate.SamplerSettings;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The generation fields shared by {@code /v1/chat/completions} and {@code /v1/completions}, validated.
 * Sampling follows OpenAI's definitions and defaults (temperature 1, top_p 1, no top-k / min-p); vLLM's
 * extensions {@code top_k}, {@code min_p}, {@code repetition_penalty} and {@code ignore_eos} are accepted too.
 *
 * @param maxTokens   the most tokens to generate, or null for "until the context is full"
 * @param topLogprobs alternatives per token when {@code logprobs}
 */
record GenerationParams(String model, Integer maxTokens, SamplerSettings sampling, List<String> stop, boolean stream,
                        boolean includeUsage, boolean logprobs, int topLogprobs, boolean ignoreEos) {

    /** Reads the shared fields; {@code logprobs} and {@code top_logprobs} are left to the caller (they differ). */
    static GenerationParams read(JsonNode root, boolean logprobs, int topLogprobs) {
        String model = Fields.string(root, "model");
        Long n = Fields.integer(root, "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) throw ApiException.unsupported("n", "n must be 1: this server returns one choice per request");
        Long bestOf = Fields.integer(root, "best_of", 1, Integer.MAX_VALUE);
        if (bestOf != null && bestOf != 1) throw ApiException.unsupported("best_of", "best_of must be 1 on this server");

        Long maxTokens = Fields.integer(root, "max_tokens", 1, Integer.MAX_VALUE);
        Long maxCompletion = Fields.integer(root, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxCompletion != null) maxTokens = maxCompletion; // the newer name wins (OpenAI deprecates max_tokens)

        double temperature = orElse(Fields.number(root, "temperature", 0, 2), 1.0);
        Double topPGiven = Fields.number(root, "top_p", 0, 1);
        if (topPGiven != null && topPGiven == 0) throw ApiException.invalidParam("top_p", "top_p must be greater than 0 and at most 1, got 0");
        double topP = orElse(topPGiven, 1.0);
        Long topK = Fields.integer(root, "top_k", -1, Integer.MAX_VALUE);
        double minP = orElse(Fields.number(root, "min_p", 0, 1), 0.0);
        double presence = orElse(Fields.number(root, "presence_penalty", -2, 2), 0.0);
        double frequency = orElse(Fields.number(root, "frequency_penalty", -2, 2), 0.0);
        Double repetition = Fields.number(root, "repetition_penalty", 0, 10);
        if (repetition != null && repetition == 0) throw ApiException.invalidParam("repetition_penalty", "repetition_penalty must be greater than 0");
        Long seed = Fields.integer(root, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        SamplerSettings sampling = new SamplerSettings((float) temperature, topK == null || topK < 0 ? 0 : topK.intValue(),
                (float) topP, (float) minP, repetition == null ? 1f : repetition.floatValue(),
                SamplerSettings.DEFAULT_PENALTY_LAST_N, (float) presence, (float) frequency, seed);

        List<String> stop = Fields.stringOrList(root, "stop", 16);
        boolean stream = Boolean.TRUE.equals(Fields.bool(root, "stream"));
        boolean includeUsage = false;
        if (Fields.given(root, "stream_options")) {
            JsonNode so = root.get("stream_options");
            if (!so.isObject()) throw ApiException.invalidParam("stream_options", "stream_options must be an object");
            if (!stream) throw ApiException.invalidParam("stream_options", "stream_options is only allowed when stream is true");
            Boolean iu = Fields.bool(so, "include_usage");
            if (iu == null && so.has("include_usage") && !so.get("include_usage").isNull()) {
                throw ApiException.invalidParam("stream_options.include_usage", "include_usage must be true or false");
            }
            includeUsage = Boolean.TRUE.equals(iu);
        }
        if (Fields.given(root, "logit_bias")) {
            JsonNode lb = root.get("logit_bias");
            if (!lb.isObject()) throw ApiException.invalidParam("logit_bias", "logit_bias must be an object");
            if (!lb.isEmpty()) throw ApiException.unsupported("logit_bias", "logit_bias is not supported by this server");
        }
        boolean ignoreEos = Boolean.TRUE.equals(Fields.bool(root, "ignore_eos"));
        return new GenerationParams(model, maxTokens == null ? null : maxTokens.intValue(), sampling, stop, stream,
                includeUsage, logprobs, topLogprobs, ignoreEos);
    }

    private static double orElse(Double v, double d) {
        return v == null ? d : v;
    }
}
