package ai.autoglm.compress.quant;

import ai.autoglm.compress.memory.TensorSpec;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.List;

/**
 * Which GGML type each tensor gets when a model is quantized to one target type: the small subset of llama.cpp's
 * {@code llama_tensor_get_type} (src/llama-quant.cpp) that applies to a single-type target without an importance
 * matrix. Kept in one class on purpose, so that it can later merge with the per-tensor plans of {@code autoglm
 * quantize}.
 * <ul>
 *   <li>Only 2-D {@code *.weight} tensors are quantized; 1-D tensors (norms, biases, rope factors) stay F32, as
 *       llama.cpp quantizes only tensors with {@code ggml_n_dims >= 2}.</li>
 *   <li>The output matrix ({@code output.weight}, or {@code token_embd.weight} when the embeddings are tied and it
 *       also serves as output) gets Q6_K when the target is a quantized type other than Q8_0, Q8_0 when its rows are
 *       not whole K-quant blocks; the untied {@code token_embd.weight} keeps the target type.</li>
 *   <li>A K-quant target on rows that are not a multiple of 256 falls back as llama.cpp does
 *       ({@code convert_incompatible_tensor}: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0), and to F16 when even that
 *       block size does not divide the row; a legacy quant (32-blocks) that does not divide the row also gets F16.</li>
 *   <li>An F16/BF16/F32 target is applied to every 2-D weight ({@code ggml_is_quantized} is false, so llama.cpp
 *       applies no per-tensor rule).</li>
 * </ul>
 */
public final class WeightTypeRule {
    private WeightTypeRule() {
    }

    /** The targets {@code serve --quantize} offers, best quality first. */
    public static final List<GgmlType> SERVE_TARGETS = List.of(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q4_0);

    /** {@code tensors} with each one's type under {@code target} (see the class comment). */
    public static List<TensorSpec> apply(List<TensorSpec> tensors, GgmlType target) {
        boolean hasOutput = tensors.stream().anyMatch(t -> t.name().equals(TensorRole.OUTPUT.tensorName()));
        List<TensorSpec> out = new ArrayList<>(tensors.size());
        for (TensorSpec t : tensors) out.add(t.withType(typeFor(t.name(), t.shape(), target, hasOutput)));
        return out;
    }

    /** The type of one tensor named {@code name} with {@code shape} (GGUF order) when the model's target is {@code target}. */
    public static GgmlType typeFor(String name, long[] shape, GgmlType target, boolean hasOutput) {
        if (shape.length < 2 || !name.endsWith(".weight")) return GgmlType.F32;
        long rowLength = shape[0];
        boolean quantized = target.blockSize > 1;
        GgmlType type = target;
        boolean isOutput = name.equals(TensorRole.OUTPUT.tensorName())
                || (!hasOutput && name.equals(TensorRole.TOKEN_EMBD.tensorName()));
        if (quantized && isOutput) {
            if (rowLength % GgmlType.Q6_K.blockSize != 0) type = GgmlType.Q8_0;
            else if (target != GgmlType.Q8_0) type = GgmlType.Q6_K;
        }
        if (rowLength % type.blockSize != 0) type = fallback(type);
        if (rowLength % type.blockSize != 0) type = GgmlType.F16;
        return type;
    }

    /** llama.cpp's replacement for a K-quant whose 256-blocks do not fit the rows. */
    private static GgmlType fallback(GgmlType t) {
        return switch (t) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
    }
}
