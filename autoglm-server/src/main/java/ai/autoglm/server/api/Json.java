package ai.autoglm.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/** The server's one JSON mapper and the OpenAI error body. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a request body, or a 400 saying where the JSON is broken. */
    public static JsonNode parse(byte[] body) {
        if (body.length == 0) throw ApiException.badRequest("the request body is empty; expected a JSON object");
        try {
            JsonNode node = MAPPER.readTree(body);
            if (node == null || !node.isObject()) throw ApiException.badRequest("the request body must be a JSON object");
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw ApiException.badRequest("the request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the request body could not be read as JSON: " + e.getMessage());
        }
    }

    /** {@code {"error": {"message", "type", "param", "code"}}}. */
    public static ObjectNode error(ApiException e) {
        return error(e.getMessage(), e.type(), e.param(), e.code());
    }

    public static ObjectNode error(String message, String type, String param, String code) {
        ObjectNode root = object();
        ObjectNode err = root.putObject("error");
        err.put("message", message);
        err.put("type", type);
        err.put("param", param);
        err.put("code", code);
        return root;
    }

    public static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
