package ai.autoglm.core.quant;

import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.tensor.GgmlType;

import java.util.ArrayList;
import java.util.List;

/**
 * Which GGML type each tensor gets when a model is quantized to one target type at load time ({@code serve
 * --quantize}, {@code eval --quantize}, the memory estimates of {@code auto}): for a quantized target, exactly the plan
 * {@code autoglm quantize --type} makes ({@link QuantizationPlanner}, llama.cpp's {@code llama_tensor_get_type}: the
 * output head Q6_K, q4_k meaning Q4_K_M with its Q6_K attn_v / ffn_down layers, the K-quant fallbacks on rows that
 * are not whole 256-blocks, norms and biases as stored); for F16/BF16/F32 every 2-D {@code *.weight} in that type
 * and the rest F32 (llama.cpp applies no per-tensor rule to unquantized file types).
 */
public final class WeightTypeRule {
    private WeightTypeRule() {
    }

    /** The targets {@code serve --quantize} offers, best quality first. */
    public static final List<GgmlType> SERVE_TARGETS = List.of(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q4_0);

    /** {@code tensors} (as stored) with each one's type when the model with {@code config} is quantized to {@code target}. */
    public static List<TensorSpec> apply(ModelConfig config, List<TensorSpec> tensors, GgmlType target) {
        List<TensorSpec> out = new ArrayList<>(tensors.size());
        if (target.blockSize == 1) {
            for (TensorSpec t : tensors) {
                boolean matrix = t.dims() >= 2 && t.name().endsWith(".weight");
                out.add(t.withType(matrix ? target : GgmlType.F32));
            }
            return out;
        }
        List<TensorDescriptor> descriptors = new ArrayList<>();
        for (TensorSpec t : tensors) descriptors.add(new TensorDescriptor(t.name(), t.shape(), t.type()));
        ModelShape shape = new ModelShape(config.architecture().ggufName(), config.layers(), config.heads(), config.kvHeads(),
                config.moe() == null ? 0 : config.moe().experts(), descriptors);
        QuantizationPlan plan = QuantizationPlanner.plan(shape, QuantizationOptions.of(preset(target)));
        for (TensorSpec t : tensors) out.add(t.withType(plan.find(t.name()).targetType()));
        return out;
    }

    /** The llama.cpp file type whose default tensor type is {@code target} (q4_k and q5_k are the _M mixes, as llama-quantize's aliases). */
    static QuantPreset preset(GgmlType target) {
        return switch (target) {
            case Q8_0 -> QuantPreset.Q8_0;
            case Q4_0 -> QuantPreset.Q4_0;
            case Q4_1 -> QuantPreset.Q4_1;
            case Q5_0 -> QuantPreset.Q5_0;
            case Q5_1 -> QuantPreset.Q5_1;
            case Q4_K -> QuantPreset.Q4_K_M;
            case Q5_K -> QuantPreset.Q5_K_M;
            case Q6_K -> QuantPreset.Q6_K;
            default -> throw new IllegalArgumentException("no quantization preset for " + target);
        };
    }
}
