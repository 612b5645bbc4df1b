package ai.autoglm.server.tools;

import java.util.List;

/**
 * Finds tool calls in a model's output, in the model family's own format. Parsing only: nothing in the output is
 * ever evaluated.
 */
public interface ToolCallParser {

    /** The text that begins the first tool call; what comes before it is ordinary content and may be streamed. */
    String startMarker();

    /** Splits the whole output into content (null when none remains) and tool calls (possibly none). */
    Parsed parse(String output);

    record Parsed(String content, List<ToolCall> calls) {
        public Parsed {
            calls = List.copyOf(calls);
        }
    }

    /** The parser for a configured name ("qwen" / "hermes"), failing with the list of known names. */
    static ToolCallParser named(String name) {
        return switch (name) {
            case "qwen", "hermes" -> new HermesToolCallParser();
            default -> throw new IllegalArgumentException("unknown tool-call format '" + name + "'; known: qwen (alias hermes)");
        };
    }
}
