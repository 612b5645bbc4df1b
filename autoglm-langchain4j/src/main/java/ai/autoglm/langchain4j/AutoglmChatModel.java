package ai.autoglm.langchain4j;

import ai.autoglm.client.AutoGLMClient;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;

import java.util.Objects;
import java.util.Set;

/**
 * LangChain4j's {@link ChatModel} over an {@link AutoGLMClient}: with an in-process client, a LangChain4j application
 * runs the model in its own JVM with no HTTP. Tools and JSON-schema answers ({@code AiServices} with a record return
 * type) go through as the SDK's tools and {@code response_format}. The client is the caller's to close.
 */
public final class AutoglmChatModel implements ChatModel {
    private final AutoGLMClient client;

    public AutoglmChatModel(AutoGLMClient client) {
        this.client = Objects.requireNonNull(client);
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return Lc4jMapping.fromSdk(client.chat(Lc4jMapping.toSdk(request)));
    }

    /** JSON Schema answers are enforced by constrained decoding, so AiServices may ask for them. */
    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }
}
