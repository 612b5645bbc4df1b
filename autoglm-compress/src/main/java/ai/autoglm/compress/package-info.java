/**
 * Compression: quantization plans, pruning, low-rank factorisation, LoRA merging, quality evaluation (perplexity,
 * KL divergence, top-1 agreement) and the automatic search that picks a compression under a memory budget.
 * Depends on {@code autoglm-core} only; the CLI and the server call it.
 */
package ai.autoglm.compress;
