package ai.autoglm.core.model;

import java.util.Objects;

/**
 * The element types of a model's KV caches: keys and values chosen apart, as llama.cpp's {@code --cache-type-k}
 * and {@code --cache-type-v}. {@link #DEFAULT} is F32 for both: the suite's independent references (numpy forward
 * passes, llama.cpp at F32) check logits to 1e-4, which F16 rounding of K and V does not meet (llama.cpp's own
 * default is F16).
 */
public record KvCacheTypes(KvCacheType keys, KvCacheType values) {
    public static final KvCacheTypes DEFAULT = new KvCacheTypes(KvCacheType.F32, KvCacheType.F32);

    public KvCacheTypes {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(values, "values");
    }

    /** Both from llama.cpp names; null means the default (f32). */
    public static KvCacheTypes parse(String keys, String values) {
        return new KvCacheTypes(keys == null ? KvCacheType.F32 : KvCacheType.parse(keys),
                values == null ? KvCacheType.F32 : KvCacheType.parse(values));
    }

    /** Bytes of one position in one layer: a key row and a value row of {@code kvDim} elements. */
    public long bytesPerPositionAndLayer(int kvDim) {
        return keys.rowBytes(kvDim) + values.rowBytes(kvDim);
    }

    /** Fails with one clear message when a quantized type does not fit the model's head dimension. */
    public void check(ModelConfig c) {
        keys.checkHeadDim(c.headDim(), "k");
        values.checkHeadDim(c.headDim(), "v");
    }

    @Override
    public String toString() {
        return "K " + keys.llamaName() + ", V " + values.llamaName();
    }
}
