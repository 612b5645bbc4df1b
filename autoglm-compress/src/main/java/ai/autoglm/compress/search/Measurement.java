package ai.autoglm.compress.search;

/**
 * What one trial measured on the candidate it really built.
 *
 * @param memoryBytes  runtime memory of the candidate (weights + KV cache at the target context + working buffers)
 * @param fileBytes    size of the candidate's GGUF file
 * @param meanKld      mean KL divergence of its next-token distribution from the base model's
 * @param p99Kld       99th percentile of the per-token KL divergence
 * @param maxKld       largest per-token KL divergence
 * @param top1         share of positions where its most likely token is the base model's
 * @param perplexity   perplexity on the evaluation text
 * @param tokensPerSecond decode speed (tg) measured on the candidate
 */
public record Measurement(long memoryBytes, long fileBytes, double meanKld, double p99Kld, double maxKld, double top1,
                          double perplexity, double tokensPerSecond) {
}
