package ai.autoglm.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The {@code <tool_call>...</tool_call>} blocks that Qwen (Hermes style, a JSON object inside) and GLM-4.5 (a name
 * and XML-style arguments inside) both write: the text around the blocks is the content, each block's inside is read
 * by the format's own reader. All or nothing, as vLLM's parsers do: an unclosed or unreadable block leaves the
 * whole output as content with no calls.
 */
final class TaggedToolCalls {
    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";

    private TaggedToolCalls() {
    }

    /** @param readBlock a block's inside to its call, or null when it is malformed */
    static ToolCallParser.Parsed parse(String output, Function<String, ToolCall> readBlock) {
        if (output == null) {
            return new ToolCallParser.Parsed("", List.of());
        }
        if (output.length() > ToolCallJson.MAX_OUTPUT_CHARS || !output.contains(OPEN)) {
            return new ToolCallParser.Parsed(output, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int pos = 0;
        while (true) {
            int open = output.indexOf(OPEN, pos);
            if (open < 0) {
                text.append(output, pos, output.length());
                break;
            }
            text.append(output, pos, open);
            int close = output.indexOf(CLOSE, open + OPEN.length());
            if (close < 0) {
                return new ToolCallParser.Parsed(output, List.of());
            }
            ToolCall call = readBlock.apply(output.substring(open + OPEN.length(), close));
            if (call == null) {
                return new ToolCallParser.Parsed(output, List.of());
            }
            calls.add(call);
            pos = close + CLOSE.length();
        }
        return new ToolCallParser.Parsed(text.toString().strip(), calls);
    }
}
