package ai.autoglm.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.lang.reflect.Method;
import java.util.Objects;

/**
 * A tool (function) the model may call, with its parameters as a JSON Schema. Declare it from Java with
 * {@link #fromRecord} (the record's components are the parameters; read a call back with
 * {@link ToolCall#arguments(Class)}) or {@link #fromMethod}.
 *
 * @param name        what the model calls it: 1 to 64 of a-z, A-Z, 0-9, _ and -
 * @param description what it does, for the model
 * @param parameters  an object schema
 */
public record ToolSpec(String name, String description, JsonNode parameters) {
    public ToolSpec {
        Objects.requireNonNull(parameters, "parameters");
        if (name == null || !name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("tool name must be 1 to 64 of a-z, A-Z, 0-9, _ and -, got '" + name + "'");
        }
    }

    /** A tool whose parameters are the components of {@code parameters} (a record). */
    public static ToolSpec fromRecord(String name, String description, Class<? extends Record> parameters) {
        return new ToolSpec(name, description, JsonSchemas.ofRecord(parameters));
    }

    /** A tool named like the method, its parameters the method's (compile with {@code javac -parameters}). */
    public static ToolSpec fromMethod(Method method, String description) {
        return new ToolSpec(method.getName(), description, JsonSchemas.ofParameters(method));
    }
}
