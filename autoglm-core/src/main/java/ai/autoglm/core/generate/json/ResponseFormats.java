package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/**
 * Reads OpenAI's {@code response_format} request field (platform.openai.com/docs/api-reference/chat/create):
 * {@code {"type": "text"}}, {@code {"type": "json_object"}} or
 * {@code {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}, "strict": true}}}. The schema is
 * always enforced, whatever {@code strict} says; a missing schema means any JSON value.
 */
public final class ResponseFormats {
    private ResponseFormats() {
    }

    /**
     * The grammar the output must follow, or empty for plain text (a null or missing field too).
     *
     * @throws IllegalArgumentException with a message starting "response_format" when the field is malformed or the
     *                                  schema uses an unsupported keyword
     */
    public static Optional<JsonGrammar> grammar(JsonNode responseFormat) {
        if (responseFormat == null || responseFormat.isNull() || responseFormat.isMissingNode()) return Optional.empty();
        if (!responseFormat.isObject()) throw new IllegalArgumentException("response_format must be an object");
        JsonNode type = responseFormat.get("type");
        String t = type != null && type.isTextual() ? type.textValue() : null;
        if ("text".equals(t)) return Optional.empty();
        if ("json_object".equals(t)) return Optional.of(JsonGrammar.anyObject());
        if (!"json_schema".equals(t)) {
            throw new IllegalArgumentException("response_format.type must be 'text', 'json_object' or 'json_schema', got " + type);
        }
        JsonNode spec = responseFormat.get("json_schema");
        if (spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("response_format.json_schema must be an object with 'name' and 'schema'");
        }
        JsonNode name = spec.get("name");
        if (name != null && !(name.isTextual() && name.textValue().matches("[A-Za-z0-9_-]{1,64}"))) {
            throw new IllegalArgumentException("response_format.json_schema.name must be 1 to 64 of a-z, A-Z, 0-9, _ and -");
        }
        JsonNode schema = spec.get("schema");
        if (schema == null || schema.isNull()) return Optional.of(JsonGrammar.anyValue());
        try {
            return Optional.of(JsonGrammar.fromSchema(schema));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("response_format.json_schema.schema: " + e.getMessage(), e);
        }
    }
}
