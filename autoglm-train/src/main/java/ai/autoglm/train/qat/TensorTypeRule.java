package ai.autoglm.train.qat;

import ai.autoglm.core.tensor.GgmlType;

/**
 * Which GGML type each tensor of a quantized model gets, by GGUF name and shape (GGUF order, row length first).
 * Quantization-aware training fake-quantizes every tensor whose type is a block type, and the export writes the
 * same types, so training and file always agree. {@link LlamaCppTypeRule} is the default; a quantization plan
 * from elsewhere (e.g. autoglm-compress, which this module cannot depend on) plugs in as a lambda.
 */
@FunctionalInterface
public interface TensorTypeRule {

    GgmlType typeOf(String tensorName, long[] shape);
}
