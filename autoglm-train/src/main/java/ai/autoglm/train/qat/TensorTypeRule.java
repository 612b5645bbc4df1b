package ai.autoglm.train.qat;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.quant.ModelShape;
import ai.autoglm.core.quant.PlannedTensor;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.quant.QuantizationPlan;
import ai.autoglm.core.quant.QuantizationPlanner;
import ai.autoglm.core.quant.TensorDescriptor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.train.Parameter;
import ai.autoglm.train.TrainableTransformer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which GGML type each tensor of a quantized model gets, by GGUF name and shape (GGUF order, row length first).
 * Quantization-aware training fake-quantizes every tensor whose type is a block type, and the export writes the
 * same types, so training and file always agree. The rule is llama-quantize's per-tensor mix
 * ({@link QuantizationPlanner}, src/llama-quant.cpp {@code llama_tensor_get_type}), the same plan
 * {@code autoglm quantize --type} writes, so QAT and post-training quantization produce files of the same layout.
 */
@FunctionalInterface
public interface TensorTypeRule {

    GgmlType typeOf(String tensorName, long[] shape);

    /** The types of {@code plan}; a tensor the plan does not list is an error (a plan of another model). */
    static TensorTypeRule of(QuantizationPlan plan) {
        return (name, shape) -> {
            PlannedTensor t = plan.find(name);
            if (t == null) throw new IllegalStateException("the quantization plan has no tensor " + name);
            return t.targetType();
        };
    }

    /** llama-quantize's plan for {@code preset} of the GGUF file {@code gguf} (its metadata and every tensor). */
    static TensorTypeRule llamaQuantize(Path gguf, QuantPreset preset) {
        try (GgufFile g = GgufFile.open(gguf)) {
            return of(QuantizationPlanner.plan(ModelShape.of(g.metadata(), new GgufWeightSource(g)), QuantizationOptions.of(preset)));
        }
    }

    /** llama-quantize's plan for {@code preset} of {@code model}'s parameters (a model not read from a file). */
    static TensorTypeRule llamaQuantize(TrainableTransformer model, QuantPreset preset) {
        ModelConfig c = model.config();
        List<TensorDescriptor> tensors = new ArrayList<>();
        for (Parameter p : model.parameters().all()) tensors.add(new TensorDescriptor(p.name(), p.shape(), GgmlType.F32));
        ModelShape shape = new ModelShape(c.architecture().ggufName(), c.layers(), c.heads(), c.kvHeads(), tensors);
        return of(QuantizationPlanner.plan(shape, QuantizationOptions.of(preset)));
    }
}
