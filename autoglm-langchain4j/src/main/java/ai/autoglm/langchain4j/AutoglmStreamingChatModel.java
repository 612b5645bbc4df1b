package ai.autoglm.langchain4j;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.ChatStream;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.Objects;
import java.util.Set;

/**
 * LangChain4j's {@link StreamingChatModel} over an {@link AutoGLMClient}: each request is read on its own virtual
 * thread, handing pieces to {@code onPartialResponse} as the SDK's {@link ChatStream} yields them. An interrupt of
 * that thread, or an exception thrown by the handler, closes the stream (which cancels the generation).
 */
public final class AutoglmStreamingChatModel implements StreamingChatModel {
    private final AutoGLMClient client;

    public AutoglmStreamingChatModel(AutoGLMClient client) {
        this.client = Objects.requireNonNull(client);
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        ai.autoglm.client.ChatRequest sdk = Lc4jMapping.toSdk(request);
        Thread.ofVirtual().name("autoglm-lc4j-stream").start(() -> {
            try (ChatStream s = client.stream(sdk)) {
                for (String piece : s) handler.onPartialResponse(piece);
                handler.onCompleteResponse(Lc4jMapping.fromSdk(s.response()));
            } catch (Throwable t) {
                handler.onError(t);
            }
        });
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }
}
