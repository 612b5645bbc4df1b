package ai.autoglm.langchain4j;

import ai.autoglm.client.ChatMessage;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.GenerationOptions;
import ai.autoglm.client.ToolCall;
import ai.autoglm.client.ToolSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;

import java.util.ArrayList;
import java.util.List;

/** LangChain4j's chat types to the SDK's and back (one place, shared by the blocking and the streaming model). */
final class Lc4jMapping {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Lc4jMapping() {
    }

    static ChatRequest toSdk(dev.langchain4j.model.chat.request.ChatRequest r) {
        ChatRequest.Builder b = ChatRequest.builder();
        for (dev.langchain4j.data.message.ChatMessage m : r.messages()) b.message(message(m));
        ChatRequestParameters p = r.parameters();
        GenerationOptions o = GenerationOptions.DEFAULTS
                .withTemperature(p.temperature()).withTopP(p.topP()).withTopK(p.topK())
                .withMaxTokens(p.maxOutputTokens()).withStop(p.stopSequences());
        b.options(o);
        if (p.toolSpecifications() != null) for (ToolSpecification t : p.toolSpecifications()) b.tool(tool(t));
        ChatRequest out = b.build();
        ResponseFormat rf = p.responseFormat();
        if (rf != null && rf.type() == ResponseFormatType.JSON) {
            JsonNode schema = rf.jsonSchema() == null ? JSON.createObjectNode().put("type", "object")
                    : JSON.valueToTree(JsonSchemaElementUtils.toMap(rf.jsonSchema().rootElement(), true));
            out = out.withResponseSchema(schema);
        }
        return out;
    }

    private static ChatMessage message(dev.langchain4j.data.message.ChatMessage m) {
        return switch (m) {
            case SystemMessage s -> ChatMessage.system(s.text());
            case UserMessage u -> {
                if (!u.hasSingleText()) throw new IllegalArgumentException("only text user messages are supported, got " + u.contents());
                yield ChatMessage.user(u.singleText());
            }
            case AiMessage a -> {
                List<ToolCall> calls = new ArrayList<>();
                if (a.hasToolExecutionRequests()) {
                    for (ToolExecutionRequest t : a.toolExecutionRequests()) calls.add(new ToolCall(t.id(), t.name(), t.arguments()));
                }
                yield ChatMessage.assistant(a.text(), calls);
            }
            case ToolExecutionResultMessage t -> ChatMessage.toolResult(t.id(), t.text());
            default -> throw new IllegalArgumentException("unsupported message type " + m.type());
        };
    }

    private static ToolSpec tool(ToolSpecification t) {
        JsonNode params = t.parameters() == null ? JSON.createObjectNode().put("type", "object").set("properties", JSON.createObjectNode())
                : JSON.valueToTree(JsonSchemaElementUtils.toMap(t.parameters(), true));
        return new ToolSpec(t.name(), t.description(), params);
    }

    static ChatResponse fromSdk(ai.autoglm.client.ChatResponse r) {
        AiMessage.Builder ai = AiMessage.builder().text(r.content());
        if (!r.toolCalls().isEmpty()) {
            List<ToolExecutionRequest> calls = new ArrayList<>();
            for (ToolCall c : r.toolCalls()) calls.add(ToolExecutionRequest.builder().id(c.id()).name(c.name()).arguments(c.argumentsJson()).build());
            ai.toolExecutionRequests(calls);
        }
        return ChatResponse.builder().aiMessage(ai.build())
                .tokenUsage(new TokenUsage(r.usage().promptTokens(), r.usage().completionTokens()))
                .finishReason(finish(r.finishReason()))
                .modelName("autoglm (" + r.route().kind().name().toLowerCase(java.util.Locale.ROOT) + ")")
                .build();
    }

    private static FinishReason finish(String f) {
        if (f == null) return null;
        return switch (f) {
            case "stop" -> FinishReason.STOP;
            case "length" -> FinishReason.LENGTH;
            case "tool_calls" -> FinishReason.TOOL_EXECUTION;
            default -> FinishReason.OTHER;
        };
    }
}
