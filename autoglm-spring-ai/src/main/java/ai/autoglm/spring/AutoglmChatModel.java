package ai.autoglm.spring;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.ChatMessage;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.ChatStream;
import ai.autoglm.client.GenerationOptions;
import ai.autoglm.client.ToolCall;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Spring AI's {@link ChatModel} over an {@link AutoGLMClient}: with an in-process client the model runs in the
 * application's JVM, no HTTP. Messages (system, user, assistant with tool calls, tool responses) and the portable
 * {@link ChatOptions} (temperature, top-p, top-k, max tokens, stop sequences) are passed through; tool calling
 * through Spring AI's {@code ToolCallingManager} is not wired (the calls come back in the assistant message).
 * {@link #stream} reads the SDK's stream on a virtual thread; cancelling the subscription cancels the generation.
 */
public final class AutoglmChatModel implements ChatModel {
    private final AutoGLMClient client;

    public AutoglmChatModel(AutoGLMClient client) {
        this.client = Objects.requireNonNull(client);
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        ai.autoglm.client.ChatResponse r = client.chat(toSdk(prompt));
        return response(r);
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        ChatRequest request = toSdk(prompt);
        return Flux.create(sink -> {
            ChatStream s = client.stream(request);
            sink.onDispose(s::close);
            Thread.ofVirtual().name("autoglm-spring-stream").start(() -> {
                try (s) {
                    for (String piece : s) {
                        if (sink.isCancelled()) return;
                        sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(piece)))));
                    }
                    ai.autoglm.client.ChatResponse end = s.response();
                    sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(""),
                            ChatGenerationMetadata.builder().finishReason(end.finishReason()).build())), metadata(end)));
                    sink.complete();
                } catch (RuntimeException e) {
                    sink.error(e);
                }
            });
        });
    }

    static ChatRequest toSdk(Prompt prompt) {
        ChatRequest.Builder b = ChatRequest.builder();
        for (Message m : prompt.getInstructions()) {
            switch (m) {
                case SystemMessage s -> b.system(s.getText());
                case UserMessage u -> b.user(u.getText());
                case AssistantMessage a -> {
                    List<ToolCall> calls = new ArrayList<>();
                    for (AssistantMessage.ToolCall c : a.getToolCalls()) calls.add(new ToolCall(c.id(), c.name(), c.arguments()));
                    b.message(ChatMessage.assistant(a.getText(), calls));
                }
                case ToolResponseMessage t -> {
                    for (ToolResponseMessage.ToolResponse r : t.getResponses()) b.message(ChatMessage.toolResult(r.id(), r.responseData()));
                }
                default -> throw new IllegalArgumentException("unsupported message type " + m.getMessageType());
            }
        }
        ChatOptions o = prompt.getOptions();
        if (o != null) {
            b.options(GenerationOptions.DEFAULTS.withTemperature(o.getTemperature()).withTopP(o.getTopP()).withTopK(o.getTopK())
                    .withMaxTokens(o.getMaxTokens()).withStop(o.getStopSequences()));
        }
        return b.build();
    }

    private static ChatResponse response(ai.autoglm.client.ChatResponse r) {
        List<AssistantMessage.ToolCall> calls = new ArrayList<>();
        for (ToolCall c : r.toolCalls()) calls.add(new AssistantMessage.ToolCall(c.id(), "function", c.name(), c.argumentsJson()));
        AssistantMessage message = new AssistantMessage(r.content() == null ? "" : r.content(), java.util.Map.of(), calls);
        Generation g = new Generation(message, ChatGenerationMetadata.builder().finishReason(r.finishReason()).build());
        return new ChatResponse(List.of(g), metadata(r));
    }

    private static ChatResponseMetadata metadata(ai.autoglm.client.ChatResponse r) {
        return ChatResponseMetadata.builder()
                .usage(new DefaultUsage(r.usage().promptTokens(), r.usage().completionTokens()))
                .model("autoglm")
                .keyValue("route", r.route().kind().name())
                .keyValue("route-reason", r.route().reason())
                .build();
    }
}
