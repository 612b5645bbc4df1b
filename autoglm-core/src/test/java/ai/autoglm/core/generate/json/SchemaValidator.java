package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.util.Set;
import java.util.stream.Collectors;

/** The independent reference for schema tests: networknt's JSON Schema validator (draft 2020-12). */
final class SchemaValidator {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    private SchemaValidator() {
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** The validation errors of {@code instance} against {@code schema}, empty when valid. */
    static String errors(JsonNode schema, JsonNode instance) {
        Set<ValidationMessage> messages = FACTORY.getSchema(schema).validate(instance);
        return messages.stream().map(ValidationMessage::getMessage).collect(Collectors.joining("; "));
    }
}
