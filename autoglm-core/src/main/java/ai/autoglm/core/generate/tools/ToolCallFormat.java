package ai.autoglm.core.generate.tools;

import ai.autoglm.core.tokenizer.Glm45ToolCallParser;
import ai.autoglm.core.tokenizer.GlmToolCallParser;
import ai.autoglm.core.tokenizer.Llama3ToolCallParser;
import ai.autoglm.core.tokenizer.QwenToolCallParser;
import ai.autoglm.core.tokenizer.ToolCallParser;

import java.util.Locale;

/**
 * How a model family writes tool calls: the core parser for its format, and the text that starts a call in a
 * stream (content before it can be streamed at once). Formats without such a marker (GLM-4: the function name on
 * the first line; Llama 3.1: a bare JSON object) are held back whole while tools are offered and parsed at the end.
 *
 * @param streamMarker text that begins the first call, or null when a call cannot be recognised before the end
 */
public record ToolCallFormat(String name, ToolCallParser parser, String streamMarker) {

    /** A format by its configured name: qwen (alias hermes), glm45 (alias glm4_moe), glm4, llama3. */
    public static ToolCallFormat named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "qwen", "hermes" -> new ToolCallFormat("qwen", new QwenToolCallParser(), "<tool_call>");
            case "glm45", "glm4_moe" -> new ToolCallFormat("glm45", new Glm45ToolCallParser(), "<tool_call>");
            case "glm4", "glm" -> new ToolCallFormat("glm4", new GlmToolCallParser(), null);
            case "llama3", "llama" -> new ToolCallFormat("llama3", new Llama3ToolCallParser(), null);
            default -> throw new IllegalArgumentException("unknown tool-call format '" + name + "'; known: qwen (hermes), glm45 (glm4_moe), glm4, llama3");
        };
    }

    /**
     * The format a chat template asks for, read from the instructions it writes: {@code <arg_key>} (GLM-4.5's
     * XML-style calls, checked first: that template also writes {@code <tool_call>} and {@code <|observation|>}),
     * {@code <tool_call>} (Qwen/Hermes, Qwen3 included), {@code <|observation|>} (GLM-4), {@code <|python_tag|>} or
     * {@code ipython} (Llama 3.1); Qwen's otherwise.
     */
    public static ToolCallFormat forTemplate(String template) {
        if (template != null) {
            if (template.contains("<arg_key>")) return named("glm45");
            if (template.contains("<tool_call>")) return named("qwen");
            if (template.contains("<|observation|>")) return named("glm4");
            if (template.contains("<|python_tag|>") || template.contains("ipython")) return named("llama3");
        }
        return named("qwen");
    }
}
