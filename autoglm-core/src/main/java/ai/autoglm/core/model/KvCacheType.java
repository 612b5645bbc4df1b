package ai.autoglm.core.model;

import ai.autoglm.core.tensor.GgmlType;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Element type of the keys or the values in a {@link KvCache}, named as llama.cpp names them
 * ({@code --cache-type-k/--cache-type-v}: f32, f16, q8_0, q4_0; common/arg.cpp {@code kv_cache_types}). The
 * quantized types are the GGML blocks of 32 elements along the head dimension (ggml-common.h block_q8_0,
 * block_q4_0), written with ggml's reference quantizers, so one position's row of one head is whole blocks.
 */
public enum KvCacheType {
    F32(GgmlType.F32),
    F16(GgmlType.F16),
    Q8_0(GgmlType.Q8_0),
    Q4_0(GgmlType.Q4_0);

    /** The GGML block layout a row is stored in. */
    public final GgmlType ggml;

    KvCacheType(GgmlType ggml) {
        this.ggml = ggml;
    }

    /** The llama.cpp spelling: {@code f32}, {@code f16}, {@code q8_0}, {@code q4_0}. */
    public String llamaName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Bytes of one position's row of {@code kvDim} elements (whole blocks; see {@link #checkHeadDim}). */
    public long rowBytes(int kvDim) {
        return ggml.bytesFor(kvDim);
    }

    /**
     * Fails unless rows of {@code headDim} elements split into whole blocks: each head's slice of a row must start
     * on a block, as llama.cpp requires (llama-context.cpp rejects a quantized V cache whose head size is not a
     * multiple of the block size).
     */
    public void checkHeadDim(int headDim, String which) {
        if (headDim % ggml.blockSize != 0) {
            throw new IllegalArgumentException("--cache-type-" + which + " " + llamaName() + " needs a head dimension that is a multiple of "
                    + ggml.blockSize + ", this model's is " + headDim + "; use f16 or f32");
        }
    }

    /** The type named {@code name} (case-insensitive), or one clear error naming the choices. */
    public static KvCacheType parse(String name) {
        if (name != null) {
            for (KvCacheType t : values()) {
                if (t.llamaName().equalsIgnoreCase(name.trim())) return t;
            }
        }
        throw new IllegalArgumentException("unknown KV cache type '" + name + "', expected one of " + choices());
    }

    /** {@code f32, f16, q8_0, q4_0}. */
    public static String choices() {
        return Arrays.stream(values()).map(KvCacheType::llamaName).collect(Collectors.joining(", "));
    }
}
