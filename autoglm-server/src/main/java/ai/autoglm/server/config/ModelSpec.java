package ai.autoglm.server.config;

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
 */
public record ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser, Path lora,
                        String quantize) {
    /** {@code slots} when the server chooses them (the default). */
    public static final int AUTO_SLOTS = 0;

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
        if (slots < 0) throw new IllegalArgumentException("model '" + alias + "': slots must be at least 1 (or auto), got " + slots);
    }

    /** This model with {@code slots} sequences of {@code context} positions each. */
    public ModelSpec withSlots(int slots, Integer context) {
        return new ModelSpec(alias, path, context, slots, keepAlive, toolParser, lora, quantize);
    }
}
