package ai.autoglm.compress.eval;

import ai.autoglm.core.memory.MemoryEstimate;

/**
 * What {@link QualityEvaluator} measured for one model (llama-perplexity's statistics, llama-bench's speeds).
 *
 * @param model                   name of the evaluated model (its path)
 * @param base                    name of the base model, or null
 * @param context                 tokens per window
 * @param windows                 windows evaluated
 * @param scoredTokens            positions scored (the second half of each window, less its last token)
 * @param perplexity              exp(mean negative log-likelihood) of the model
 * @param perplexityError         its uncertainty (llama.cpp's "+/-")
 * @param vsBase                  the comparison with the base, or null without one
 * @param prefillTokensPerSecond  pp tokens/s (NaN when not measured)
 * @param decodeTokensPerSecond   tg tokens/s (NaN when not measured)
 * @param peakResidentBytes       VmHWM of this process at the end (both models when a base was loaded), -1 where unknown
 * @param estimate                the memory model's estimate for the model with one sequence of {@code context}, or null
 */
public record QualityReport(String model, String base, int context, int windows, long scoredTokens,
                            double perplexity, double perplexityError, Comparison vsBase,
                            double prefillTokensPerSecond, double decodeTokensPerSecond,
                            long peakResidentBytes, MemoryEstimate estimate) {

    /**
     * The model against the base on the same tokens.
     *
     * @param basePerplexity  the base's perplexity
     * @param perplexityRatio PPL(model) / PPL(base)
     * @param meanKld         mean KL(base || model) per position, in nats
     * @param meanKldError    its standard error
     * @param p99Kld          99th percentile of the per-position KL divergence
     * @param maxKld          the largest
     * @param top1Agreement   share of positions where both rank the same token first ("same top p")
     * @param top1Error       its binomial standard error
     */
    public record Comparison(double basePerplexity, double basePerplexityError, double perplexityRatio,
                             double perplexityRatioError, double meanKld, double meanKldError, double p99Kld,
                             double maxKld, double top1Agreement, double top1Error) {
    }
}
