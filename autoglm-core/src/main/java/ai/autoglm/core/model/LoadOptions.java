package ai.autoglm.core.model;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * How {@link ModelLoader#load(Path, LoadOptions)} opens a model, one value instead of one overload per combination:
 * a PEFT LoRA adapter applied at load time, a {@link ProjectionDecorator} (calibration hooks) made once the
 * configuration and weights are open, and a weight transform (load-time quantization). Immutable; start from
 * {@link #defaults()} and chain the {@code with...} methods.
 *
 * @param lora       a PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}) applied
 *                   unmerged ({@link LoraProjection}), or null for none
 * @param decorators makes the projection decorator from the configuration and the (transformed) weights; applied
 *                   after the adapter's, so calibration observes what the model computes
 * @param weights    replaces the checkpoint's weights before the model binds them; the configuration, tokenizer and
 *                   chat template are read first, so it may close its input once it has copied what it needs, and the
 *                   model closes its result (and the checkpoint) when it is closed
 * @param kvCache    element types of the KV caches of the model's sequences ({@code --cache-type-k/--cache-type-v})
 */
public record LoadOptions(Path lora,
                         BiFunction<ModelConfig, WeightSource, ProjectionDecorator> decorators,
                         BiFunction<ModelConfig, WeightSource, WeightSource> weights,
                         KvCacheTypes kvCache) {
    private static final LoadOptions DEFAULTS = new LoadOptions(null, (config, w) -> ProjectionDecorator.NONE, (config, w) -> w,
            KvCacheTypes.DEFAULT);

    public LoadOptions {
        Objects.requireNonNull(decorators, "decorators");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(kvCache, "kvCache");
    }

    /** The checkpoint as stored: no adapter, no decorator, no transform. */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    /** With the PEFT adapter in {@code adapterDir} applied at load time; null loads the model alone. */
    public LoadOptions withLora(Path adapterDir) {
        return new LoadOptions(adapterDir, decorators, weights, kvCache);
    }

    /** With every projection passed through {@code decorator} (calibration). */
    public LoadOptions withDecorator(ProjectionDecorator decorator) {
        Objects.requireNonNull(decorator, "decorator");
        return withDecorators((config, w) -> decorator);
    }

    /** With the decorator made once the configuration and weights are open. */
    public LoadOptions withDecorators(BiFunction<ModelConfig, WeightSource, ProjectionDecorator> factory) {
        return new LoadOptions(lora, factory, weights, kvCache);
    }

    /** With the checkpoint's weights replaced by {@code transform.apply(config, source)} (load-time quantization). */
    public LoadOptions withWeights(BiFunction<ModelConfig, WeightSource, WeightSource> transform) {
        return new LoadOptions(lora, decorators, transform, kvCache);
    }

    /** With KV caches of these element types (checked against the model's head dimension at load). */
    public LoadOptions withKvCache(KvCacheTypes types) {
        return new LoadOptions(lora, decorators, weights, types);
    }
}
