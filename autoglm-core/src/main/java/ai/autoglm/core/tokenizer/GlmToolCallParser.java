package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * GLM-4's tool calls (THUDM/glm-4-9b-chat modeling_chatglm.py {@code process_response}): the reply is one or
 * more segments separated by {@code <|assistant|>}; a segment whose first line is not blank is a call, that line
 * being the function name and the rest the arguments as JSON. A segment with a blank first line is text (stripped).
 * Here a call must also have a well-formed name (and one of the offered tools, when given) and a JSON object as
 * arguments; if any segment fails that, the whole output is returned as content, with no calls.
 */
public final class GlmToolCallParser implements ToolCallParser {
    private static final String TURN = "<|assistant|>";

    @Override
    public Parsed parse(String output, Set<String> knownTools) {
        if (output == null) {
            return new Parsed("", List.of());
        }
        if (output.length() > ToolCallJson.MAX_OUTPUT_CHARS) {
            return new Parsed(output, List.of());
        }
        List<ToolCall> calls = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (String segment : output.split(java.util.regex.Pattern.quote(TURN), -1)) {
            int nl = segment.indexOf('\n');
            String first = nl < 0 ? "" : segment.substring(0, nl);
            String rest = nl < 0 ? segment : segment.substring(nl + 1);
            if (first.isBlank()) {
                String t = rest.strip();
                if (!t.isEmpty()) {
                    if (text.length() > 0) {
                        text.append('\n');
                    }
                    text.append(t);
                }
                continue;
            }
            String name = first.strip();
            JsonNode args = ToolCallJson.object(rest);
            if (!ToolCallJson.acceptableName(name, knownTools) || args == null) {
                return new Parsed(output.strip(), List.of());
            }
            calls.add(new ToolCall(ToolCallJson.newId(), name, ToolCallJson.compact(args)));
        }
        return new Parsed(text.toString(), calls);
    }
}
