package ai.autoglm.core.format.onnx;

import java.util.List;
import java.util.Map;

/**
 * One ONNX {@code NodeProto} (onnx/onnx.proto): an operator applied to named inputs, producing named outputs.
 * Of the attributes only the ones a loader inspects are kept: integer and float attributes, and tensor attributes
 * (a {@code Constant} node's {@code value}).
 */
public record OnnxNode(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Long> intAttributes, Map<String, Float> floatAttributes,
                       Map<String, OnnxTensor> tensorAttributes) {

    /** Input {@code i}, or null when the node has fewer inputs (or the input is left out, an empty name). */
    public String input(int i) {
        return i < inputs.size() && !inputs.get(i).isEmpty() ? inputs.get(i) : null;
    }
}
