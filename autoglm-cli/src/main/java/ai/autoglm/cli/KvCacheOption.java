package ai.autoglm.cli;

import ai.autoglm.core.model.KvCacheTypes;
import picocli.CommandLine.Option;

/**
 * {@code --cache-type-k/--cache-type-v}: the element types of the KV cache, as llama.cpp names them, on every command
 * that generates or serves. A bad value is one error naming the choices.
 */
final class KvCacheOption {
    @Option(names = "--cache-type-k", paramLabel = "TYPE",
            description = "KV cache type of the keys: f32 (default), f16, q8_0 or q4_0 (blocks of 32 along the head dimension, as llama.cpp).")
    String keys;

    @Option(names = "--cache-type-v", paramLabel = "TYPE",
            description = "KV cache type of the values: f32 (default), f16, q8_0 or q4_0.")
    String values;

    /** The types given (f32 for the one not given); IllegalArgumentException for an unknown name. */
    KvCacheTypes types() {
        return KvCacheTypes.parse(keys, values);
    }
}
