package ai.autoglm.server.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * One model the server offers.
 *
 * @param alias      the name clients put in {@code model}
 * @param path       a GGUF file or Hugging Face directory
 * @param context    KV positions per slot (prompt plus answer), or null for min(4096, the model's context)
 * @param slots      sequences generated at once
 * @param keepAlive  how long it stays loaded with no request; null means until the server stops
 * @param toolParser the tool-call format of the model's output (qwen, glm4, llama3), or null to read it from the chat template
 * @param lora       a PEFT LoRA adapter directory applied at load time (unmerged), or null
 */
public record ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser, Path lora) {

    /** A model without adapter. */
    public ModelSpec(String alias, Path path, Integer context, int slots, Duration keepAlive, String toolParser) {
        this(alias, path, context, slots, keepAlive, toolParser, null);
    }

    public ModelSpec {
        if (alias == null || alias.isBlank()) throw new IllegalArgumentException("a model needs an alias");
        if (path == null) throw new IllegalArgumentException("model '" + alias + "' needs a path");
        if (context != null && context < 2) throw new IllegalArgumentException("model '" + alias + "': context must be at least 2, got " + context);
        if (slots < 1) throw new IllegalArgumentException("model '" + alias + "': slots must be at least 1, got " + slots);
    }
}
