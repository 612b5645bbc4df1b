package ai.autoglm.core.tokenizer;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a model's raw output into assistant text plus tool calls, for one model family's call format. The
 * output is data: arguments are parsed as JSON and re-serialized, never evaluated; anything that does not parse
 * as a well-formed call comes back as plain content, never as an exception.
 */
public interface ToolCallParser {

    /** The result: text meant for the user (empty when the output was only calls) and the calls, in order. */
    record Parsed(String content, List<ToolCall> toolCalls) {
        public Parsed {
            toolCalls = List.copyOf(toolCalls);
        }

        public boolean hasToolCalls() {
            return !toolCalls.isEmpty();
        }
    }

    /**
     * @param output     the generated text (special tokens may be left in, e.g. GLM-4's {@code <|assistant|>})
     * @param knownTools names of the tools offered in the request; a call to another name is treated as text.
     *                   Null accepts any well-formed name.
     */
    Parsed parse(String output, Set<String> knownTools);

    /**
     * The same, with the offered tools as the request sent them ({@code {"type": "function", "function": {"name",
     * "parameters"}}}), for formats whose argument values are untyped text and need the parameters' declared types
     * (GLM-4.5). The default ignores them.
     */
    default Parsed parse(String output, Set<String> knownTools, List<Map<String, Object>> tools) {
        return parse(output, knownTools);
    }
}
