package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One {@code --tensor-type REGEX=TYPE}: tensors whose GGUF name contains a match of {@code pattern} (a search, as
 * llama.cpp's {@code std::regex_search} in llama_tensor_get_type) get {@code type}; the first matching override wins.
 * Unlike llama-quantize the pattern is not lower-cased (so {@code \D} keeps its meaning; GGUF names are lower case).
 */
public record TensorTypeOverride(Pattern pattern, GgmlType type) {

    public TensorTypeOverride {
        // Q2_K and Q3_K are read (llama-quantize files load) but not written: Quantizer has no Q2_K/Q3_K quantizer.
        if (!type.supported || type == GgmlType.Q8_1 || type == GgmlType.Q2_K || type == GgmlType.Q3_K) {
            throw new IllegalArgumentException("--tensor-type: cannot write tensors of type " + type);
        }
    }

    /** Parses {@code REGEX=TYPE} (TYPE a ggml type name: q4_0, q4_k, q6_k, q8_0, f16, bf16, f32, ...). */
    public static TensorTypeOverride parse(String spec) {
        int eq = spec.lastIndexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new IllegalArgumentException("--tensor-type must be REGEX=TYPE (e.g. attn_v=q8_0), got '" + spec + "'");
        }
        String regex = spec.substring(0, eq);
        String typeName = spec.substring(eq + 1).trim();
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--tensor-type '" + spec + "': bad regular expression: " + e.getDescription());
        }
        GgmlType t;
        try {
            t = GgmlType.valueOf(typeName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tensor-type '" + spec + "': unknown type '" + typeName
                    + "' (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)");
        }
        return new TensorTypeOverride(p, t);
    }

    boolean matches(String tensorName) {
        return pattern.matcher(tensorName).find();
    }

    @Override
    public String toString() {
        return pattern.pattern() + "=" + type.name().toLowerCase(Locale.ROOT);
    }
}
