package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.security.SecureRandom;
import java.util.Set;
import java.util.regex.Pattern;

/** What the tool-call parsers share: bounded JSON parsing, function-name checks, call ids. */
final class ToolCallJson {
    /** Outputs longer than this are not searched for calls (a generation limit is far below it). */
    static final int MAX_OUTPUT_CHARS = 1 << 20;
    /** OpenAI function names: letters, digits, '_' and '-', at most 64 characters; '.' allowed for namespaces. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]{0,63}");
    private static final String ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Strict JSON with limits, so a hostile output cannot make the parser recurse deeply or buffer huge values. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                    .maxStringLength(MAX_OUTPUT_CHARS).maxNumberLength(100).build())
            .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS); // "{} rm -rf" is not an object

    private ToolCallJson() {
    }

    /** The JSON object in {@code text} (nothing else but whitespace around it), or null. */
    static JsonNode object(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return n != null && n.isObject() ? n : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null; // malformed or over a limit: the caller keeps the text as content
        }
    }

    /** Any JSON value that is all of {@code text} (an object, array, string, number, boolean or null), or null. */
    static JsonNode value(String text) {
        try {
            return text.isEmpty() ? null : JSON.readTree(text);
        } catch (JsonProcessingException | RuntimeException e) {
            return null; // not JSON: the caller keeps the text as a string
        }
    }

    static String compact(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree we parsed always serializes
        }
    }

    static boolean acceptableName(String name, Set<String> knownTools) {
        return name != null && NAME.matcher(name).matches() && (knownTools == null || knownTools.contains(name));
    }

    /** {@code call_} and 24 random alphanumerics, as OpenAI's ids look. */
    static String newId() {
        StringBuilder sb = new StringBuilder("call_");
        for (int i = 0; i < 24; i++) {
            sb.append(ID_CHARS.charAt(RANDOM.nextInt(ID_CHARS.length())));
        }
        return sb.toString();
    }
}
