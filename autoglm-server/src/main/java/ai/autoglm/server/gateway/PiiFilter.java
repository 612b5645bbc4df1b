package ai.autoglm.server.gateway;

import ai.autoglm.server.security.FileDigest;
import ai.autoglm.server.config.PiiConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The PII filter: finds e-mail addresses, phone numbers, Chinese resident ID numbers, bank cards, IP addresses,
 * secrets, custom patterns and blocked terms in requests (chat message contents and tool-call arguments, completion
 * prompts) and in answers, and redacts them, or refuses the request with a 400 that names the kind of data and
 * the field but never the value. Each action is written into the request's {@link RequestContext} as
 * {@code redact:KIND:input}, {@code reject:KIND:input} or {@code redact:KIND:output}.
 */
public final class PiiFilter {
    private static final Map<String, String> NAMES = Map.of(
            "email", "an e-mail address", "phone", "a phone number", "cn-id", "a Chinese resident ID number",
            "bank-card", "a bank card number", "ip", "an IP address", "secret", "a secret (an API key or token)",
            "blocked-term", "a blocked term");

    private final PiiConfig config;
    private final List<PiiDetector> detectors;
    private final String fingerprint;

    public PiiFilter(PiiConfig config) {
        this.config = config;
        this.detectors = PiiDetectors.of(config);
        // "nfkc1": answers filtered before matching ran on the normal form (PiiNormalizer) never share a (Redis) cache entry with these.
        StringBuilder sb = new StringBuilder("pii:nfkc1:").append(config.input()).append(':').append(config.output());
        config.kinds().stream().sorted().forEach(k -> sb.append(':').append(k));
        for (PiiConfig.NamedPattern p : config.patterns()) sb.append("\npattern:").append(p.name()).append('=').append(p.regex().pattern());
        for (String t : config.blockedTerms()) sb.append("\nterm:").append(t);
        this.fingerprint = FileDigest.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Identifies the settings, so that answers filtered differently never share a cache entry. */
    public String fingerprint() {
        return fingerprint;
    }

    public boolean filtersOutput() {
        return config.output() == PiiConfig.Action.REDACT;
    }

    /**
     * The request with personal data redacted (a copy; the argument is not changed), or the request itself when
     * input filtering is off.
     *
     * @throws GatewayException 400 {@code pii_detected} in reject mode
     */
    public JsonNode filterInput(JsonNode body, RequestContext ctx) {
        if (config.input() == PiiConfig.Action.OFF || !body.isObject()) return body;
        ObjectNode copy = body.deepCopy();
        JsonNode messages = copy.get("messages");
        if (messages != null && messages.isArray()) {
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                if (!m.isObject()) continue;
                String where = "messages[" + i + "]";
                JsonNode content = m.get("content");
                if (content != null && content.isTextual()) {
                    ((ObjectNode) m).set("content", filter(content, where + ".content", ctx));
                } else if (content != null && content.isArray()) {
                    for (int j = 0; j < content.size(); j++) {
                        if (content.get(j) instanceof ObjectNode part && part.path("text").isTextual()) {
                            part.set("text", filter(part.get("text"), where + ".content[" + j + "].text", ctx));
                        }
                    }
                }
                JsonNode calls = m.get("tool_calls");
                if (calls != null && calls.isArray()) {
                    for (int j = 0; j < calls.size(); j++) {
                        if (calls.get(j).path("function") instanceof ObjectNode fn && fn.path("arguments").isTextual()) {
                            fn.set("arguments", filter(fn.get("arguments"), where + ".tool_calls[" + j + "].function.arguments", ctx));
                        }
                    }
                }
            }
        }
        // completions' prompt, embeddings' input: a string or a list of strings
        for (String field : new String[]{"prompt", "input"}) filterStrings(copy, field, ctx);
        return copy;
    }

    private void filterStrings(ObjectNode body, String field, RequestContext ctx) {
        JsonNode value = body.get(field);
        if (value != null && value.isTextual()) {
            body.set(field, filter(value, field, ctx));
        } else if (value instanceof ArrayNode arr) {
            for (int i = 0; i < arr.size(); i++) {
                if (arr.get(i).isTextual()) arr.set(i, filter(arr.get(i), field + "[" + i + "]", ctx));
            }
        }
    }

    private JsonNode filter(JsonNode text, String field, RequestContext ctx) {
        if (config.input() == PiiConfig.Action.REJECT) {
            String kind = PiiScanner.firstKind(detectors, text.asText());
            if (kind != null) {
                record(ctx, "reject:" + kind + ":input");
                throw new GatewayException(400, "invalid_request_error", field.replaceAll("\\[.*", ""), "pii_detected",
                        field + " contains " + describe(kind) + "; this server does not accept personal data or secrets in requests", Map.of());
            }
            return text;
        }
        String out = new PiiScanner(detectors, kind -> record(ctx, "redact:" + kind + ":input")).whole(text.asText());
        return out.equals(text.asText()) ? text : TextNode.valueOf(out);
    }

    /** The filter for this request's generated text (redaction, or nothing when output filtering is off). */
    public OutputFilter output(RequestContext ctx) {
        if (!filtersOutput()) return OutputFilter.NONE;
        Consumer<String> found = kind -> record(ctx, "redact:" + kind + ":output");
        return new OutputFilter() {
            @Override
            public Stream open() {
                PiiScanner s = new PiiScanner(detectors, found);
                return new Stream() {
                    @Override
                    public String push(String text) {
                        return s.push(text);
                    }

                    @Override
                    public String finish() {
                        return s.finish();
                    }
                };
            }

            @Override
            public String apply(String text) {
                return new PiiScanner(detectors, found).whole(text);
            }
        };
    }

    private static String describe(String kind) {
        return NAMES.getOrDefault(kind, "text matching the pattern '" + kind + "'");
    }

    private static void record(RequestContext ctx, String action) {
        if (!ctx.filterActions().contains(action)) ctx.filterAction(action);
    }
}
