package ai.autoglm.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server's one JSON mapper and the OpenAI error body. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern LIMIT = Pattern.compile("\\((\\d+)\\) exceeds the maximum allowed \\((\\d+)");

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
        try (JsonParser p = MAPPER.createParser(body)) {
            JsonNode node = MAPPER.readTree(p);
            if (node == null || !node.isObject()) throw ApiException.badRequest("the request body must be a JSON object");
            // One object and nothing after it but whitespace: "{...} garbage" is a 400, not silently ignored.
            var end = p.currentLocation();
            try {
                if (p.nextToken() != null) throw trailing(end);
            } catch (JsonProcessingException e) {
                throw trailing(end);
            }
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw ApiException.badRequest("the request body is not valid JSON" + where + ": " + clientMessage(e));
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the request body could not be read as JSON");
        }
    }

    private static ApiException trailing(com.fasterxml.jackson.core.JsonLocation end) {
        return ApiException.badRequest("the request body is not valid JSON at line " + end.getLineNr() + ", column " + end.getColumnNr()
                + ": unexpected data after the JSON object");
    }

    /**
     * What is wrong with the JSON, in the client's terms: Jackson's messages name its own settings
     * ({@code StreamReadConstraints.getMaxNestingDepth()}, {@code JsonReadFeature.ALLOW_...}, the redacted source),
     * which mean nothing to a client and describe the server's internals.
     */
    static String clientMessage(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        if (e instanceof StreamConstraintsException) {
            Matcher limit = LIMIT.matcher(m);
            String max = limit.find() ? limit.group(2) : null;
            if (m.contains("nesting depth")) return "arrays and objects are nested more than " + max + " levels deep";
            if (m.startsWith("Number")) return "a number is longer than " + max + " characters";
            if (m.startsWith("String")) return "a string is longer than " + max + " characters";
            if (m.startsWith("Name")) return "a field name is longer than " + max + " characters";
            return "the JSON is larger than the parser's limits allow";
        }
        if (m.startsWith("Non-standard token")) return m.replaceAll(": enable .*", "") + " (not a JSON number)";
        // "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)"
        m = m.replaceAll("\\s*\\(not recognized as one since Feature[^)]*\\)", "");
        // "... (start marker at [Source: REDACTED (`StreamReadFeature...` disabled); line: 1, column: 21])"
        m = m.replaceAll("\\s*\\(start marker at \\[Source:.*?line: (\\d+), column: (\\d+)\\]\\)", " (opened at line $1, column $2)");
        m = m.replaceAll(";?\\s*(enable|disable) `[^`]*`[^;.]*", "");
        m = m.replaceAll("\\s*\\([^()]*`[^()]*\\)", ""); // any remaining parenthesised mention of a Jackson name
        return m.replace("`", "'").strip();
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
