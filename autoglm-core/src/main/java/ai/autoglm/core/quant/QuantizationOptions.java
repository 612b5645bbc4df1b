package ai.autoglm.core.quant;

import java.util.List;

/**
 * The user's choices for one quantization: the file type, {@code --tensor-type} overrides (first match wins) and
 * whether an importance matrix will be used (one llama.cpp rule depends on it).
 */
public record QuantizationOptions(QuantPreset preset, List<TensorTypeOverride> overrides, boolean withImatrix) {
    public QuantizationOptions {
        if (preset == null) throw new IllegalArgumentException("a quantization type is needed");
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }

    public static QuantizationOptions of(QuantPreset preset) {
        return new QuantizationOptions(preset, List.of(), false);
    }
}
