package ai.autoglm.core.generate;

import java.util.List;
import java.util.Set;

/**
 * One generation job.
 *
 * @param promptTokens    the full prompt, BOS included when the model wants one
 * @param maxTokens       the most tokens to generate (at least 1)
 * @param sampling        how to pick each token
 * @param stopTokens      ids that end generation (not part of the output)
 * @param stopStrings     texts that end generation (cut from the output)
 * @param logitsProcessor constrains the tokens (e.g. JSON output), or null for none; stateful, so a fresh one per
 *                        request
 */
public record GenerationRequest(int[] promptTokens, int maxTokens, SamplerSettings sampling,
                                Set<Integer> stopTokens, List<String> stopStrings, LogitsProcessor logitsProcessor) {
    public GenerationRequest {
        if (promptTokens.length == 0) throw new IllegalArgumentException("the prompt is empty: it needs at least one token");
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be at least 1, got " + maxTokens);
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = List.copyOf(stopStrings);
    }

    /** A request without a logits processor. */
    public GenerationRequest(int[] promptTokens, int maxTokens, SamplerSettings sampling,
                             Set<Integer> stopTokens, List<String> stopStrings) {
        this(promptTokens, maxTokens, sampling, stopTokens, stopStrings, null);
    }
}
