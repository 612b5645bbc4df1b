package ai.autoglm.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A conversation to answer.
 *
 * @param messages       the turns, oldest first (a system prompt is the first, {@link Role#SYSTEM}, turn)
 * @param options        sampling, length and stop strings
 * @param tools          tools the model may call (empty: none)
 * @param responseSchema a JSON Schema the answer must follow (sent as {@code response_format}), or null for text
 */
public record ChatRequest(List<ChatMessage> messages, GenerationOptions options, List<ToolSpec> tools, JsonNode responseSchema) {
    public ChatRequest {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) throw new IllegalArgumentException("a chat request needs at least one message");
        options = options == null ? GenerationOptions.DEFAULTS : options;
        tools = tools == null ? List.of() : List.copyOf(tools);
    }

    /** One user message with default options. */
    public static ChatRequest of(String userText) {
        return builder().user(userText).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The same request with the answer constrained to {@code schema}. */
    public ChatRequest withResponseSchema(JsonNode schema) {
        return new ChatRequest(messages, options, tools, schema);
    }

    public ChatRequest withOptions(GenerationOptions o) {
        return new ChatRequest(messages, o, tools, responseSchema);
    }

    /** Builds a request turn by turn. */
    public static final class Builder {
        private final List<ChatMessage> messages = new ArrayList<>();
        private final List<ToolSpec> tools = new ArrayList<>();
        private GenerationOptions options = GenerationOptions.DEFAULTS;

        public Builder system(String text) {
            messages.add(ChatMessage.system(text));
            return this;
        }

        public Builder user(String text) {
            messages.add(ChatMessage.user(text));
            return this;
        }

        public Builder assistant(String text) {
            messages.add(ChatMessage.assistant(text));
            return this;
        }

        public Builder message(ChatMessage m) {
            messages.add(Objects.requireNonNull(m));
            return this;
        }

        public Builder messages(List<ChatMessage> ms) {
            messages.addAll(ms);
            return this;
        }

        public Builder tool(ToolSpec t) {
            tools.add(Objects.requireNonNull(t));
            return this;
        }

        public Builder options(GenerationOptions o) {
            options = Objects.requireNonNull(o);
            return this;
        }

        public ChatRequest build() {
            return new ChatRequest(messages, options, tools, null);
        }
    }
}
