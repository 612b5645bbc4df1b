package ai.autoglm.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * JSON Schemas of Java records and method parameters, in the subset OpenAI's strict structured outputs accept
 * (platform.openai.com/docs/guides/structured-outputs, "Supported schemas"): every property required,
 * {@code additionalProperties: false}, types string/integer/number/boolean/array/object and string enums. Our own
 * grammar compiler ({@code JsonSchemaCompiler} in core) accepts exactly that subset, so a schema from here
 * constrains decoding in-process and on any OpenAI-compatible server alike. Written here rather than taken from a
 * general generator (victools jsonschema-generator) because those emit {@code $ref}/{@code $defs} and format
 * keywords outside the subset, which the grammar compiler refuses rather than ignores.
 */
final class JsonSchemas {
    private JsonSchemas() {
    }

    /** The schema of a record: one property per component, in declaration order. */
    static ObjectNode ofRecord(Class<?> type) {
        return ofRecord(type, new HashSet<>());
    }

    /** The parameters of a method as an object schema (the names need {@code javac -parameters}). */
    static ObjectNode ofParameters(Method method) {
        ObjectNode schema = Json.MAPPER.createObjectNode();
        schema.put("type", "object");
        ObjectNode props = schema.putObject("properties");
        ArrayNode required = schema.putArray("required");
        for (var p : method.getParameters()) {
            if (!p.isNamePresent()) {
                throw new IllegalArgumentException("tool method " + method.getName() + ": its parameter names were not compiled in; "
                        + "compile with 'javac -parameters' or declare the tool from a record");
            }
            props.set(p.getName(), of(p.getParameterizedType(), new HashSet<>(), method.getName() + "(" + p.getName() + ")"));
            required.add(p.getName());
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    private static ObjectNode ofRecord(Class<?> type, Set<Class<?>> seen) {
        if (!type.isRecord()) throw new IllegalArgumentException(type.getName() + " is not a record");
        if (!seen.add(type)) throw new IllegalArgumentException(type.getName() + " refers to itself; recursive records have no schema here");
        ObjectNode schema = Json.MAPPER.createObjectNode();
        schema.put("type", "object");
        ObjectNode props = schema.putObject("properties");
        ArrayNode required = schema.putArray("required");
        for (RecordComponent c : type.getRecordComponents()) {
            props.set(c.getName(), of(c.getGenericType(), seen, type.getSimpleName() + "." + c.getName()));
            required.add(c.getName());
        }
        schema.put("additionalProperties", false);
        seen.remove(type);
        return schema;
    }

    private static ObjectNode of(Type t, Set<Class<?>> seen, String where) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        if (t instanceof ParameterizedType pt && pt.getRawType() instanceof Class<?> raw && Collection.class.isAssignableFrom(raw)) {
            s.put("type", "array");
            s.set("items", of(pt.getActualTypeArguments()[0], seen, where + "[]"));
            return s;
        }
        if (!(t instanceof Class<?> c)) throw new IllegalArgumentException(where + ": type " + t + " has no JSON schema here");
        if (c == String.class || c == char.class || c == Character.class) {
            s.put("type", "string");
        } else if (c == boolean.class || c == Boolean.class) {
            s.put("type", "boolean");
        } else if (c == int.class || c == long.class || c == short.class || c == byte.class || c == Integer.class || c == Long.class
                || c == Short.class || c == Byte.class || c == BigInteger.class) {
            s.put("type", "integer");
        } else if (c == double.class || c == float.class || c == Double.class || c == Float.class || c == BigDecimal.class) {
            s.put("type", "number");
        } else if (c.isEnum()) {
            s.put("type", "string");
            ArrayNode values = s.putArray("enum");
            for (Object e : c.getEnumConstants()) values.add(((Enum<?>) e).name());
        } else if (c.isArray()) {
            s.put("type", "array");
            s.set("items", of(c.getComponentType(), seen, where + "[]"));
        } else if (c.isRecord()) {
            return ofRecord(c, seen);
        } else {
            throw new IllegalArgumentException(where + ": type " + c.getName()
                    + " has no JSON schema here; use String, numbers, boolean, enums, lists, arrays or records");
        }
        return s;
    }
}
