package ai.autoglm.core.generate.tools;

import ai.autoglm.core.generate.LogitsProcessor;
import ai.autoglm.core.generate.json.JsonGrammar;
import ai.autoglm.core.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The grammar of one tool call in a model's own format, for {@code tool_choice: "required"} or a named function:
 * a fixed text, a JSON value, a fixed text. Constrained decoding (core's {@link JsonGrammar}) then makes the model
 * write a call that its format's parser accepts, to one of the allowed tools, with arguments valid against that
 * tool's {@code parameters} schema:
 * <ul>
 *   <li>qwen (Hermes): {@code <tool_call>\n{"name": <tool>, "arguments": <parameters>}\n</tool_call>}, as
 *       Qwen2.5's chat template writes calls (vLLM's hermes parser reads the same);</li>
 *   <li>llama3: {@code {"name": <tool>, "parameters": <parameters>}} (Meta's JSON-based tool calling);</li>
 *   <li>glm4: {@code <tool>\n<parameters>}, the name line then the arguments (glm-4-9b-chat's process_response);
 *       the name is a fixed text, so only when one tool is allowed.</li>
 * </ul>
 * Immutable; {@link #newLogitsProcessor} gives each request its own state.
 */
public final class ForcedToolCall {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final byte[] prefix;
    private final JsonGrammar call;
    private final byte[] suffix;

    private ForcedToolCall(String prefix, JsonGrammar call, String suffix) {
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        this.call = call;
        this.suffix = suffix.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @param tools the allowed tools, as OpenAI sends them ({@code {"type": "function", "function": {"name",
     *              "parameters"}}}), at least one
     * @throws IllegalArgumentException when the format cannot force a choice among these tools, or a tool's
     *                                  parameters use a schema keyword the grammar compiler does not support
     */
    public static ForcedToolCall of(ToolCallFormat format, List<Map<String, Object>> tools) {
        if (tools.isEmpty()) throw new IllegalArgumentException("no tools to call");
        return switch (format.name()) {
            case "qwen" -> new ForcedToolCall("<tool_call>\n", JsonGrammar.fromSchema(callSchema(tools, "arguments")), "\n</tool_call>");
            case "llama3" -> new ForcedToolCall("", JsonGrammar.fromSchema(callSchema(tools, "parameters")), "");
            case "glm4" -> {
                if (tools.size() != 1) {
                    throw new IllegalArgumentException("the glm4 tool-call format starts with the name as plain text: name one function to force a call");
                }
                yield new ForcedToolCall(name(tools.getFirst()) + "\n", JsonGrammar.fromSchema(parameters(tools.getFirst())), "");
            }
            default -> throw new IllegalArgumentException("cannot force tool calls in the " + format.name() + " format");
        };
    }

    /** {@code anyOf} one object per tool: its name as a const, its parameters schema under {@code argumentsKey}. */
    private static JsonNode callSchema(List<Map<String, Object>> tools, String argumentsKey) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode any = root.putArray("anyOf");
        for (Map<String, Object> tool : tools) {
            ObjectNode one = any.addObject();
            one.put("type", "object");
            ObjectNode props = one.putObject("properties");
            props.putObject("name").put("const", name(tool));
            props.set(argumentsKey, parameters(tool));
            one.putArray("required").add("name").add(argumentsKey);
            one.put("additionalProperties", false);
        }
        return root;
    }

    private static String name(Map<String, Object> tool) {
        return (String) ((Map<?, ?>) tool.get("function")).get("name");
    }

    /** The tool's parameters schema; none means any object (OpenAI: a function without parameters takes {}). */
    private static JsonNode parameters(Map<String, Object> tool) {
        Object p = ((Map<?, ?>) tool.get("function")).get("parameters");
        if (p == null) return JSON.createObjectNode().put("type", "object");
        return JSON.valueToTree(p);
    }

    /**
     * A processor for one generation: the fixed texts, then the JSON value, then complete (generation ends with
     * finish reason stop; the server's parser then turns the text into {@code tool_calls}). End tokens are never
     * allowed before the call is written.
     */
    public LogitsProcessor newLogitsProcessor(Tokenizer tokenizer) {
        return new Processor(tokenizer);
    }

    private final class Processor implements LogitsProcessor {
        private final Tokenizer tokenizer;
        private final LogitsProcessor json;
        private int phase; // 0 prefix, 1 JSON, 2 suffix, 3 done
        private int written; // bytes of the current fixed text already written

        Processor(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
            this.json = call.newLogitsProcessor(tokenizer, Set.of());
            this.phase = prefix.length == 0 ? 1 : 0;
        }

        @Override
        public void process(float[] logits) {
            switch (phase) {
                case 0 -> literal(logits, prefix);
                case 1 -> json.process(logits);
                case 2 -> literal(logits, suffix);
                default -> throw new IllegalStateException("the tool call is complete");
            }
        }

        /**
         * Allows only the tokens whose bytes continue the fixed text (a token crossing its end is refused, so the
         * JSON value starts on a token boundary).
         */
        private void literal(float[] logits, byte[] text) {
            int inVocab = Math.min(logits.length, tokenizer.vocabSize());
            boolean any = false;
            for (int id = 0; id < logits.length; id++) {
                if (id < inVocab && continues(id, text)) any = true; else logits[id] = Float.NEGATIVE_INFINITY;
            }
            if (!any) throw new IllegalStateException("no token of the vocabulary writes the tool-call format's text");
        }

        private boolean continues(int id, byte[] text) {
            if (tokenizer.isSpecial(id)) return false; // special tokens decode to no text
            byte[] b = tokenizer.tokenBytes(id);
            if (b == null || b.length == 0 || b.length > text.length - written) return false;
            for (int i = 0; i < b.length; i++) if (b[i] != text[written + i]) return false;
            return true;
        }

        @Override
        public void accept(int token) {
            switch (phase) {
                case 0 -> {
                    written += tokenizer.tokenBytes(token).length;
                    if (written == prefix.length) phase = 1;
                }
                case 1 -> {
                    json.accept(token);
                    if (json.isComplete()) {
                        written = 0;
                        phase = suffix.length == 0 ? 3 : 2;
                    }
                }
                case 2 -> {
                    written += tokenizer.tokenBytes(token).length;
                    if (written == suffix.length) phase = 3;
                }
                default -> throw new IllegalStateException("the tool call is complete");
            }
        }

        @Override
        public boolean isComplete() {
            return phase == 3;
        }
    }
}
