package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;

import java.util.Locale;

/**
 * What {@code --type} asks for: a llama.cpp file type ({@code enum llama_ftype} in include/llama.h, written to
 * {@code general.file_type}) with its default tensor type ({@code llama_ftype_get_default_type}). {@code q4_k} and
 * {@code q5_k} are the _M mixes, as llama-quantize's aliases ("Q4_K: alias for Q4_K_M", tools/quantize/quantize.cpp).
 */
public enum QuantPreset {
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q8_0(7, GgmlType.Q8_0),
    Q5_0(8, GgmlType.Q5_0),
    Q5_1(9, GgmlType.Q5_1),
    Q4_K_S(14, GgmlType.Q4_K),
    Q4_K_M(15, GgmlType.Q4_K),
    Q5_K_S(16, GgmlType.Q5_K),
    Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K);

    /** {@code general.file_type}. */
    public final int fileType;
    /** The type of tensors no rule singles out. */
    public final GgmlType defaultType;

    QuantPreset(int fileType, GgmlType defaultType) {
        this.fileType = fileType;
        this.defaultType = defaultType;
    }

    /** Case-insensitive name ({@code q4_k_m}), or the aliases {@code q4_k}, {@code q5_k}. */
    public static QuantPreset parse(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        if (n.equals("Q4_K")) return Q4_K_M;
        if (n.equals("Q5_K")) return Q5_K_M;
        for (QuantPreset p : values()) {
            if (p.name().equals(n)) return p;
        }
        throw new IllegalArgumentException("--type must be one of q8_0, q4_0, q4_1, q5_0, q5_1, q4_k (= q4_k_m), q4_k_s, "
                + "q5_k (= q5_k_m), q5_k_s, q6_k; got '" + name + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
