/**
 * Compression: importance-matrix collection, pruning, low-rank factorisation, LoRA merging, quality evaluation
 * (perplexity, KL divergence, top-1 agreement) and the automatic search that picks a compression under a memory budget.
 * Quantization itself (llama-quantize's plan and type rule, the quantizers, load-time quantization) and the runtime
 * memory model live in {@code autoglm-core} ({@code ai.autoglm.core.quant}, {@code ai.autoglm.core.memory}), so that
 * the server and training use them without this module. Depends on {@code autoglm-core} only; the CLI calls it.
 */
package ai.autoglm.compress;
