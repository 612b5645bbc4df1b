package ai.autoglm.server.api;

import ai.autoglm.core.generate.json.JsonGrammar;
import ai.autoglm.core.generate.json.ResponseFormats;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The {@code response_format} request field as a grammar for constrained decoding (core's
 * {@link ResponseFormats}: {@code text}, {@code json_object}, {@code json_schema}). Compiled grammars are kept by
 * the field's JSON text ({@link CompiledCache}), so that their token masks are reused across requests.
 */
final class ResponseFormatField {
    private static final CompiledCache<JsonGrammar> GRAMMARS = new CompiledCache<>(32);

    private ResponseFormatField() {
    }

    /**
     * The grammar the output must follow, or null for plain text.
     *
     * @throws ApiException 400 naming {@code response_format} when it is malformed or its schema uses what the
     *                      grammar compiler does not support (the message says which keyword, where)
     */
    static JsonGrammar read(JsonNode root) {
        if (!Fields.given(root, "response_format")) return null;
        JsonNode field = root.get("response_format");
        return GRAMMARS.get(field.toString(), () -> {
            try {
                return ResponseFormats.grammar(field).orElse(null);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalidParam("response_format", e.getMessage());
            }
        });
    }
}
