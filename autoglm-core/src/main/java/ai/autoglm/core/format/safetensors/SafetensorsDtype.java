package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.tensor.GgmlType;

/**
 * The dtypes of the safetensors format (huggingface/safetensors, safetensors/src/tensor.rs {@code enum Dtype})
 * with their element sizes. Only F32, F16 and BF16 can be read as float tensors; the others are known so that
 * their offsets can still be validated and a file holding, say, an {@code I64} buffer opens, with a clear error
 * only when that tensor is requested. The sub-byte dtypes (F4, F6_*) are not listed: a file using them is
 * rejected at open as having an unknown dtype.
 */
public enum SafetensorsDtype {
    BOOL(1, null), U8(1, null), I8(1, null), F8_E5M2(1, null), F8_E4M3(1, null), F8_E8M0(1, null),
    I16(2, null), U16(2, null), F16(2, GgmlType.F16), BF16(2, GgmlType.BF16),
    I32(4, null), U32(4, null), F32(4, GgmlType.F32),
    F64(8, null), I64(8, null), U64(8, null);

    /** Bytes per element. */
    public final int size;
    /** The GGML type with the same element layout, or null when this engine cannot read it as floats. */
    public final GgmlType ggmlType;

    SafetensorsDtype(int size, GgmlType ggmlType) {
        this.size = size;
        this.ggmlType = ggmlType;
    }

    /** Whether tensors of this dtype can be read as {@link ai.autoglm.core.tensor.FloatTensor}s. */
    public boolean readable() {
        return ggmlType != null;
    }

    /** The dtype named {@code name} exactly as the file spells it, or null. */
    public static SafetensorsDtype fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }

    /** The dtype a GGML float type is stored as, or null when there is none. */
    public static SafetensorsDtype of(GgmlType type) {
        return switch (type) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            default -> null;
        };
    }
}
