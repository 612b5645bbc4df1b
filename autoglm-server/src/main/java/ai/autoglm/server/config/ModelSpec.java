package ai.autoglm.server.config;

import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.quant.ServeQuantization;

import java.nio.file.Path;
import java.time.Duration;

/**
 * One model the server offers.
 *
 * @param alias      the name clients put in {@code model}
 * @param path       a GGUF file or Hugging Face directory
 * @param context    KV positions per slot (prompt plus answer), or null for min(4096, the model's context)
 * @param slots      sequences generated at once, or {@link #AUTO_SLOTS} to let the server choose from the cores and the
 *                   memory budget ({@link ai.autoglm.core.memory.ServeSlots})
 * @param keepAlive  how long it stays loaded with no request; null means until the server stops
 * @param toolParser the tool-call format of the model's output (qwen, glm45, glm4, llama3), or null to read it from the chat template
 * @param lora       a PEFT LoRA adapter directory applied at load time (unmerged), or null
 * @param quantize   quantize F32/F16/BF16 weights at load time: f16, q8_0, q4_0, q4_k or auto (see
 *                   {@link ai.autoglm.core.quant.ServeQuantization}); null serves the weights as stored
 * @param kvCache    element types of the slots' KV caches (config keys {@code cache-type-k}/{@code cache-type-v},
 *                   {@code --cache-type-k/--cache-type-v}); f32 by default
 */
public record ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser, Path lora,
                        String quantize, KvCacheTypes kvCache) {
    /** {@code slots} when the server chooses them (the default). */
    public static final int AUTO_SLOTS = 0;

    /** A model with the default (f32) KV cache. */
    public ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser, Path lora,
                     String quantize) {
        this(alias, path, context, slots, keepAlive, toolParser, lora, quantize, KvCacheTypes.DEFAULT);
    }

    /** A model without load-time quantization. */
    public ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser, Path lora) {
        this(alias, path, context, slots, keepAlive, toolParser, lora, null);
    }

    /** A model without adapter. */
    public ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser) {
        this(alias, path, context, slots, keepAlive, toolParser, null, null);
    }

    public ModelSpec {
        if (alias == null || alias.isBlank()) throw new IllegalArgumentException("a model needs an alias");
        if (quantize != null) quantize = ServeQuantization.parseOption(quantize, "model '" + alias + "': quantize");
        if (path == null) throw new IllegalArgumentException("model '" + alias + "' needs a path");
        if (context != null && context < 2) throw new IllegalArgumentException("model '" + alias + "': context must be at least 2, got " + context);
        if (kvCache == null) kvCache = KvCacheTypes.DEFAULT;
        if (slots < 0) throw new IllegalArgumentException("model '" + alias + "': slots must be at least 1 (or auto), got " + slots);
    }

    /** This model with {@code slots} sequences of {@code context} positions each. */
    public ModelSpec withSlots(int slots, Integer context) {
        return new ModelSpec(alias, path, context, slots, keepAlive, toolParser, lora, quantize, kvCache);
    }

    /** This model with KV caches of {@code types}. */
    public ModelSpec withKvCache(KvCacheTypes types) {
        return new ModelSpec(alias, path, context, slots, keepAlive, toolParser, lora, quantize, types);
    }
}
