package ai.autoglm.server.api;

import ai.autoglm.core.generate.json.JsonGrammar;
import ai.autoglm.core.generate.json.ResponseFormats;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code response_format} request field as a grammar for constrained decoding (core's
 * {@link ResponseFormats}: {@code text}, {@code json_object}, {@code json_schema}). Compiled grammars are kept by
 * the field's JSON text in a small LRU map, because a grammar also holds the token masks it has computed: a client
 * that sends the same schema on every request (the usual case) pays the mask computation once, not per request.
 */
final class ResponseFormatField {
    private static final int CACHED_GRAMMARS = 32;
    private static final Map<String, JsonGrammar> GRAMMARS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, JsonGrammar> eldest) {
            return size() > CACHED_GRAMMARS;
        }
    };

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
        String key = field.toString();
        synchronized (GRAMMARS) {
            JsonGrammar known = GRAMMARS.get(key);
            if (known != null) return known;
        }
        JsonGrammar grammar;
        try {
            grammar = ResponseFormats.grammar(field).orElse(null);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidParam("response_format", e.getMessage());
        }
        if (grammar != null) {
            synchronized (GRAMMARS) {
                GRAMMARS.put(key, grammar);
            }
        }
        return grammar;
    }
}
