/**
 * Quantization as llama.cpp's {@code llama-quantize} does it: the per-tensor plan and type rule
 * ({@link ai.autoglm.core.quant.QuantizationPlanner}, {@link ai.autoglm.core.quant.WeightTypeRule}), the
 * importance-weighted quantizers, whole-model quantization to a GGUF file, and load-time quantization in memory
 * ({@link ai.autoglm.core.quant.InMemoryQuantizer}, {@link ai.autoglm.core.quant.ServeQuantization}). In core so
 * that the server, training (QAT) and compression share one rule.
 */
package ai.autoglm.core.quant;
