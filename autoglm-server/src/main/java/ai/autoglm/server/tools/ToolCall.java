package ai.autoglm.server.tools;

/** A function call parsed out of model output, as data: the function's name and its arguments as a JSON text. */
public record ToolCall(String name, String argumentsJson) {
}
