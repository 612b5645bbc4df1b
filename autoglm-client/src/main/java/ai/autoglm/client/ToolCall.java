package ai.autoglm.client;

import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * A call the model made to one of the offered tools. The arguments are data, never code: read them with
 * {@link #arguments(Class)} into the record the tool was declared from.
 *
 * @param id            the call's id (send it back with the result)
 * @param name          the tool's name
 * @param argumentsJson the arguments as a JSON object text
 */
public record ToolCall(String id, String name, String argumentsJson) {

    /** The arguments bound to {@code type} (a record whose components are the tool's parameters). */
    public <T> T arguments(Class<T> type) {
        try {
            return Json.MAPPER.readValue(argumentsJson, type);
        } catch (JsonProcessingException e) {
            throw new AutoGLMException("tool call " + name + ": arguments " + argumentsJson + " do not fit " + type.getSimpleName()
                    + ": " + e.getOriginalMessage(), e);
        }
    }
}
