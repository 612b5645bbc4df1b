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
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.DefaultToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.support.UsageCalculator;
import org.springframework.ai.tool.definition.ToolDefinition;
import ai.autoglm.client.ToolSpec;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Spring AI's {@link ChatModel} over an {@link AutoGLMClient}: with an in-process client the model runs in the
 * application's JVM, no HTTP. Messages (system, user, assistant with tool calls, tool responses) and the portable
 * {@link ChatOptions} (temperature, top-p, top-k, max tokens, stop sequences) are passed through.
 *
 * <p>Tools: the loop is Spring AI's own, wired as its {@code OpenAiChatModel.call/internalCall} (1.0.x) does it: the
 * request's {@link ToolCallingChatOptions} (what {@code ChatClient.tools(...)} fills) are merged with this model's
 * defaults, the {@link ToolCallingManager} resolves their definitions (sent to the model as the SDK's
 * {@link ToolSpec}s), and while the {@link ToolExecutionEligibilityPredicate} says so (internal tool execution enabled,
 * the answer has tool calls) the manager runs the tools and the conversation is sent again with their results. With
 * {@code internalToolExecutionEnabled(false)} the calls come back in the assistant message for the caller to run.
 * {@link #stream} runs the same loop the way {@code OpenAiChatModel.internalStream} does: the text streams as it is
 * generated, the stream's last response carries the complete tool calls (the SDK assembles them, as Spring AI's
 * OpenAI helper merges the call chunks), and when the predicate says so the manager runs them on
 * {@code Schedulers.boundedElastic()} (tools are blocking) and the answer to the conversation with their results
 * streams on in the same {@link Flux}. Usage is cumulative over the loop's model calls ({@link UsageCalculator}, as
 * in both of OpenAiChatModel's paths). The SDK's stream is read on a virtual thread; cancelling the subscription
 * cancels the generation.
 */
public final class AutoglmChatModel implements ChatModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AutoGLMClient client;
    private final ToolCallingChatOptions defaultOptions;
    private final ToolCallingManager toolCallingManager;
    private final ToolExecutionEligibilityPredicate toolExecutionEligibilityPredicate;

    public AutoglmChatModel(AutoGLMClient client) {
        this(client, ToolCallingChatOptions.builder().build(), ToolCallingManager.builder().build(),
                new DefaultToolExecutionEligibilityPredicate());
    }

    /**
     * @param defaultOptions  options (tools included) every request starts from; the request's own win
     * @param toolCallingManager resolves tool definitions and runs the calls (Spring AI's default: {@code ToolCallingManager.builder().build()})
     * @param toolExecutionEligibilityPredicate when the manager runs the calls instead of returning them
     */
    public AutoglmChatModel(AutoGLMClient client, ToolCallingChatOptions defaultOptions, ToolCallingManager toolCallingManager,
                            ToolExecutionEligibilityPredicate toolExecutionEligibilityPredicate) {
        this.client = Objects.requireNonNull(client);
        this.defaultOptions = Objects.requireNonNull(defaultOptions);
        this.toolCallingManager = Objects.requireNonNull(toolCallingManager);
        this.toolExecutionEligibilityPredicate = Objects.requireNonNull(toolExecutionEligibilityPredicate);
    }

    @Override
    public ChatOptions getDefaultOptions() {
        return defaultOptions.copy();
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        return internalCall(requestPrompt(prompt), null);
    }

    /** One model call, then (as OpenAiChatModel.internalCall) the tools and another call while tools are to run. */
    private ChatResponse internalCall(Prompt prompt, ChatResponse previous) {
        ai.autoglm.client.ChatResponse answer = client.chat(toSdk(prompt, toolSpecs(prompt)));
        ChatResponse response = response(answer, answer.content(), previous);
        if (toolExecutionEligibilityPredicate.isToolExecutionRequired(prompt.getOptions(), response)) {
            ToolExecutionResult result = toolCallingManager.executeToolCalls(prompt, response);
            if (result.returnDirect()) {
                return ChatResponse.builder().from(response).generations(ToolExecutionResult.buildGenerations(result)).build();
            }
            return internalCall(new Prompt(result.conversationHistory(), prompt.getOptions()), response);
        }
        return response;
    }

    /**
     * The request's options over the defaults (OpenAiChatModel.buildRequestPrompt): portable options from the
     * request when set, tool names, callbacks and context merged, internal execution from the request when set.
     */
    Prompt requestPrompt(Prompt prompt) {
        ChatOptions runtime = prompt.getOptions();
        ToolCallingChatOptions.Builder b = ToolCallingChatOptions.builder()
                .temperature(pick(runtime == null ? null : runtime.getTemperature(), defaultOptions.getTemperature()))
                .topP(pick(runtime == null ? null : runtime.getTopP(), defaultOptions.getTopP()))
                .topK(pick(runtime == null ? null : runtime.getTopK(), defaultOptions.getTopK()))
                .maxTokens(pick(runtime == null ? null : runtime.getMaxTokens(), defaultOptions.getMaxTokens()))
                .stopSequences(pick(runtime == null ? null : runtime.getStopSequences(), defaultOptions.getStopSequences()));
        if (runtime instanceof ToolCallingChatOptions t) {
            b.internalToolExecutionEnabled(pick(t.getInternalToolExecutionEnabled(), defaultOptions.getInternalToolExecutionEnabled()))
                    .toolNames(ToolCallingChatOptions.mergeToolNames(t.getToolNames(), defaultOptions.getToolNames()))
                    .toolCallbacks(ToolCallingChatOptions.mergeToolCallbacks(t.getToolCallbacks(), defaultOptions.getToolCallbacks()))
                    .toolContext(ToolCallingChatOptions.mergeToolContext(t.getToolContext(), defaultOptions.getToolContext()));
        } else {
            b.internalToolExecutionEnabled(defaultOptions.getInternalToolExecutionEnabled())
                    .toolNames(defaultOptions.getToolNames()).toolCallbacks(defaultOptions.getToolCallbacks())
                    .toolContext(defaultOptions.getToolContext());
        }
        ToolCallingChatOptions options = b.build();
        ToolCallingChatOptions.validateToolCallbacks(options.getToolCallbacks());
        return new Prompt(prompt.getInstructions(), options);
    }

    private static <T> T pick(T runtime, T fallback) {
        return runtime != null ? runtime : fallback;
    }

    /** The definitions the manager resolves for the prompt's tool options, as the SDK's tools. */
    private List<ToolSpec> toolSpecs(Prompt prompt) {
        if (!(prompt.getOptions() instanceof ToolCallingChatOptions t)) return List.of();
        List<ToolSpec> specs = new ArrayList<>();
        for (ToolDefinition d : toolCallingManager.resolveToolDefinitions(t)) {
            try {
                specs.add(new ToolSpec(d.name(), d.description(), JSON.readTree(d.inputSchema())));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("tool " + d.name() + ": its input schema is not JSON: " + e.getOriginalMessage(), e);
            }
        }
        return specs;
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return internalStream(requestPrompt(prompt), null);
    }

    /**
     * One streamed model call, then (as OpenAiChatModel.internalStream) for the response that carries tool calls, when
     * they are to run: the tools, off the stream's thread, and the next streamed call with their results.
     */
    private Flux<ChatResponse> internalStream(Prompt prompt, ChatResponse previous) {
        return modelStream(prompt, previous).flatMap(response -> {
            if (!toolExecutionEligibilityPredicate.isToolExecutionRequired(prompt.getOptions(), response)) {
                return Flux.just(response);
            }
            return Flux.defer(() -> {
                ToolExecutionResult result = toolCallingManager.executeToolCalls(prompt, response);
                if (result.returnDirect()) {
                    return Flux.just(ChatResponse.builder().from(response).generations(ToolExecutionResult.buildGenerations(result)).build());
                }
                return internalStream(new Prompt(result.conversationHistory(), prompt.getOptions()), response);
            }).subscribeOn(Schedulers.boundedElastic());
        });
    }

    /**
     * The SDK's stream of one model call: a response per piece of text, then one with no text that carries the finish
     * reason, the tool calls, usage (cumulative with {@code previous}) and route.
     */
    private Flux<ChatResponse> modelStream(Prompt prompt, ChatResponse previous) {
        ChatRequest request = toSdk(prompt, toolSpecs(prompt));
        return Flux.create(sink -> {
            ChatStream s = client.stream(request);
            sink.onDispose(s::close);
            Thread.ofVirtual().name("autoglm-spring-stream").start(() -> {
                try (s) {
                    for (String piece : s) {
                        if (sink.isCancelled()) return;
                        sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(piece)))));
                    }
                    sink.next(response(s.response(), "", previous));
                    sink.complete();
                } catch (RuntimeException e) {
                    sink.error(e);
                }
            });
        });
    }

    static ChatRequest toSdk(Prompt prompt, List<ToolSpec> tools) {
        ChatRequest.Builder b = ChatRequest.builder();
        for (ToolSpec t : tools) b.tool(t);
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

    /** The SDK's answer with {@code text} as the message's text, usage cumulative with {@code previous}'s. */
    private static ChatResponse response(ai.autoglm.client.ChatResponse r, String text, ChatResponse previous) {
        List<AssistantMessage.ToolCall> calls = new ArrayList<>();
        for (ToolCall c : r.toolCalls()) calls.add(new AssistantMessage.ToolCall(c.id(), "function", c.name(), c.argumentsJson()));
        AssistantMessage message = new AssistantMessage(text == null ? "" : text, java.util.Map.of(), calls);
        Generation g = new Generation(message, ChatGenerationMetadata.builder().finishReason(r.finishReason()).build());
        return new ChatResponse(List.of(g), metadata(r, previous));
    }

    private static ChatResponseMetadata metadata(ai.autoglm.client.ChatResponse r, ChatResponse previous) {
        Usage usage = UsageCalculator.getCumulativeUsage(new DefaultUsage(r.usage().promptTokens(), r.usage().completionTokens()), previous);
        return ChatResponseMetadata.builder()
                .usage(usage)
                .model("autoglm")
                .keyValue("route", r.route().kind().name())
                .keyValue("route-reason", r.route().reason())
                .build();
    }
}
