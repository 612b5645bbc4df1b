package ai.autoglm.train.qat;

import ai.autoglm.core.tensor.GgmlType;

/**
 * The tensor types llama.cpp's {@code llama-quantize} gives a model quantized to one base type without an
 * importance matrix (src/llama-quant.cpp {@code llama_tensor_get_type}), reduced to what applies to the types
 * offered here:
 * <ul>
 *   <li>1-D tensors (norms, biases) stay F32 (llama.cpp quantizes only 2-D weights);</li>
 *   <li>the output projection ({@code output.weight}, or {@code token_embd.weight} when the embedding is tied
 *       and there is no output tensor) gets Q6_K, or Q8_0 when its rows are not a multiple of 256;</li>
 *   <li>every other matrix, the token embedding included, gets the base type; rows that do not fit the block
 *       fall back as llama.cpp's {@code convert_incompatible_tensor} does (Q4_K to Q5_0), and to F16 when even
 *       that block does not fit.</li>
 * </ul>
 * llama.cpp's Q4_K_M additionally raises some attn_v/ffn_down layers to Q6_K; this rule is the plain mixture
 * (close to Q4_K_S), the same for PTQ and QAT so they compare fairly.
 */
public final class LlamaCppTypeRule implements TensorTypeRule {
    private final GgmlType base;
    private final boolean hasOutput;

    /**
     * @param base      Q4_0, Q4_K or another block type
     * @param hasOutput whether the model has its own {@code output.weight} (false: tied to the embedding)
     */
    public LlamaCppTypeRule(GgmlType base, boolean hasOutput) {
        if (base.blockSize <= 1) throw new IllegalArgumentException("not a quantized type: " + base);
        this.base = base;
        this.hasOutput = hasOutput;
    }

    @Override
    public GgmlType typeOf(String name, long[] shape) {
        if (shape.length < 2) return GgmlType.F32;
        long rowLength = shape[0];
        boolean isOutput = name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"));
        if (isOutput) return rowLength % GgmlType.Q6_K.blockSize == 0 ? GgmlType.Q6_K : fitOrF16(GgmlType.Q8_0, rowLength);
        if (rowLength % base.blockSize == 0) return base;
        GgmlType fallback = switch (base) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
        return fitOrF16(fallback, rowLength);
    }

    private static GgmlType fitOrF16(GgmlType t, long rowLength) {
        return rowLength % t.blockSize == 0 ? t : GgmlType.F16;
    }
}
