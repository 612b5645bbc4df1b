package ai.autoglm.spark;

import java.io.Serializable;

/**
 * How the executors load and run a generative model. Shipped to every task (hence {@link Serializable}); the model
 * file must exist at {@code model} on every executor host (a shared filesystem, or a path the cluster provisions).
 *
 * @param model        a GGUF file (or any path {@code ModelLoader} reads), memory-mapped by each executor JVM once
 * @param maxTokens    the most tokens generated per row (cut to what the slot's context leaves)
 * @param slots        sequences the executor's scheduler decodes at once (shared by the tasks running on it)
 * @param context      KV cache positions per slot: the longest prompt plus answer
 * @param temperature  0 for greedy decoding (the default: batch jobs usually want reproducible answers)
 * @param seed         the sampler's seed when {@code temperature > 0} (each row gets {@code seed}, so a row's answer
 *                     does not depend on which partition or order it ran in)
 * @param systemPrompt the system message the chat functions put before each row's user message, or null for none
 */
public record GenerationSettings(String model, int maxTokens, int slots, int context, float temperature, long seed,
                                 String systemPrompt) implements Serializable {
    public GenerationSettings {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model: a model file path is required");
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1, got " + slots);
        if (context < 2) throw new IllegalArgumentException("context must be at least 2, got " + context);
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }

    /** Greedy, 64 tokens, 8 slots of 256 positions, no system prompt. */
    public static GenerationSettings of(String model) {
        return new GenerationSettings(model, 64, 8, 256, 0f, 0L, null);
    }

    public GenerationSettings withMaxTokens(int n) {
        return new GenerationSettings(model, n, slots, context, temperature, seed, systemPrompt);
    }

    public GenerationSettings withSlots(int n) {
        return new GenerationSettings(model, maxTokens, n, context, temperature, seed, systemPrompt);
    }

    public GenerationSettings withContext(int n) {
        return new GenerationSettings(model, maxTokens, slots, n, temperature, seed, systemPrompt);
    }

    public GenerationSettings withSampling(float t, long s) {
        return new GenerationSettings(model, maxTokens, slots, context, t, s, systemPrompt);
    }

    public GenerationSettings withSystemPrompt(String system) {
        return new GenerationSettings(model, maxTokens, slots, context, temperature, seed, system);
    }
}
