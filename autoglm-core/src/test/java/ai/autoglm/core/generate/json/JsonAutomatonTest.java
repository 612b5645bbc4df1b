package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plain JSON automaton (any value / any object) against Jackson, the reference parser: every prefix of a valid
 * document is alive, the whole document is complete; invalid documents die at the byte RFC 8259 / RFC 3629 say.
 */
class JsonAutomatonTest {
    /** Jackson as strict as RFC 8259: one value, nothing after it. */
    static final ObjectMapper JACKSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static boolean jacksonAccepts(byte[] text) {
        try {
            JACKSON.readTree(text);
            return text.length > 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** The index of the first byte the automaton refuses, or -1 when it takes them all. */
    static int firstRefused(JsonState start, byte[] text) {
        JsonState s = start;
        for (int i = 0; i < text.length; i++) {
            s = s.advance(text[i] & 0xff);
            if (s == null) return i;
        }
        return -1;
    }

    static JsonState run(JsonState start, byte[] text) {
        return start.advance(text);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void assertEveryPrefixAliveAndWholeComplete(JsonGrammar g, byte[] doc) {
        assertThat(jacksonAccepts(doc)).as("the reference accepts %s", new String(doc, StandardCharsets.UTF_8)).isTrue();
        JsonState s = g.start();
        for (int i = 0; i < doc.length; i++) {
            assertThat(s.canEnd()).as("ends before byte %d of %s", i, new String(doc, StandardCharsets.UTF_8))
                    .isEqualTo(i > 0 && jacksonAccepts(java.util.Arrays.copyOf(doc, i)) && !Character.isWhitespace(doc[i - 1]));
            s = s.advance(doc[i] & 0xff);
            assertThat(s).as("refused byte %d of %s", i, new String(doc, StandardCharsets.UTF_8)).isNotNull();
        }
        assertThat(s.canEnd()).isTrue();
    }

    static final String[] VALID = {
            "{}", "[]", "\"\"", "0", "-0", "12", "-12.5e+3", "1E-2", "0.000", "true", "false", "null",
            "{\"a\":1}", "{ \"a\" : [ 1 , 2.5 , { } ] }", "[[[[]]],{\"x\":{\"y\":null}}]",
            "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"",
            "\"中文 é 😀\"", "{\"键\":\"值\"}", "\n[1]", "\r\n[\n\t1\n]", " [1]", "\"\u007f\"", "[true,false,null]", "{\"\":\"\"}",
            "123456789012345678901234567890".substring(0, 20), "1.25e99",
    };

    @Test
    void everyPrefixOfValidDocumentsIsAliveAndTheDocumentCanEnd() {
        for (String doc : VALID) assertEveryPrefixAliveAndWholeComplete(JsonGrammar.anyValue(), utf8(doc));
    }

    @Test
    void anObjectIsCompleteAtItsClosingBraceAndNothingMayFollow() {
        JsonState s = run(JsonGrammar.anyObject().start(), utf8("{\"a\": [1, {\"b\": \"}\"}]}"));
        assertThat(s.isComplete()).isTrue();
        for (int b = 0; b < 256; b++) assertThat(s.advance(b)).as("byte %d after the end", b).isNull();
        assertThat(firstRefused(JsonGrammar.anyObject().start(), utf8("[1]"))).isZero();
        assertThat(firstRefused(JsonGrammar.anyObject().start(), utf8("\"x\""))).isZero();
    }

    @Test
    void aNumberAtTheTopMayEndButCanGoOn() {
        JsonState s = run(JsonGrammar.anyValue().start(), utf8("12"));
        assertThat(s.canEnd()).isTrue();
        assertThat(s.isComplete()).isFalse();
        assertThat(s.advance('3')).isNotNull();
    }

    /** text, the index of the first byte that must be refused (from the RFCs, not from the code). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "{\"a\":1,}|7", "[1,]|3", "{,}|1", "{\"a\" 1}|5", "{'a':1}|1", "[01]|2", "-|-1", "-a|1", "1.|-1", "1.e5|2",
            "+1|0", ".5|0", "1e|-1", "1e+|-1", "1ee|2", "tru|-1", "trux|3", "nul1|3", "[1 2]|3", "{\"a\":1 \"b\":2}|7",
            "\"a\\x\"|3", "\"\\u12g4\"|5", "{}}|2", "[]]|2", "{\"a\":}|5", "[,1]|1", "NaN|0", "Infinity|0",
            "\"\\uDE00\"|4", "\"\\uD83D\"|7", "\"\\uD83D\\u0041\"|9", "\"\\uD83Dx\"|7",
    })
    void invalidDocumentsAreRefusedAtTheRightByte(String text, int refusedAt) {
        byte[] doc = utf8(text);
        // Jackson takes lone surrogate escapes; the automaton refuses them on purpose (no UTF-8 output can carry one)
        if (!text.contains("\\uD")) assertThat(jacksonAccepts(doc)).isFalse();
        assertThat(firstRefused(JsonGrammar.anyValue().start(), doc)).isEqualTo(refusedAt);
        if (refusedAt < 0) assertThat(run(JsonGrammar.anyValue().start(), doc).canEnd()).isFalse();
    }

    /** Raw bytes inside a string: hex, the index of the first byte RFC 3629 (and RFC 8259 section 7) refuse. */
    @ParameterizedTest
    @CsvSource({
            "22c38022,-1", "22e4b8ad22,-1", "22f09f988022,-1", "22f48fbfbf22,-1",
            "22c08022,1", "22c18022,1", "22e08080,2", "22eda080,2", "22f08080,2", "22f49080,2", "22f5,1", "22ff,1",
            "2280,1", "22c322,2", "22e4b822,3", "220a22,1", "221f,1", "22e4b8c3,3",
    })
    void utf8InStringsIsValidatedByteByByte(String hex, int refusedAt) {
        byte[] doc = HexFormat.of().parseHex(hex);
        assertThat(firstRefused(JsonGrammar.anyValue().start(), doc)).isEqualTo(refusedAt);
        if (refusedAt < 0) assertThat(run(JsonGrammar.anyValue().start(), doc).canEnd()).isTrue();
    }

    /**
     * Whitespace: nothing, one space, or a line break and at most 4 indentation bytes per open container (and
     * maxWhitespace in all); pretty-printed documents (2 and 4 spaces, tabs, CRLF) pass, padding does not.
     */
    @Test
    void whitespaceIsBoundedAsPrettyPrintersWriteIt() throws Exception {
        JsonGrammar g = JsonGrammar.anyObject();
        JsonNode doc = new ObjectMapper().readTree("{\"a\":[1,{\"b\":[true,null,{\"c\":\"d\"}]}],\"e\":{}}");
        String python4 = "{\n    \"a\": [\n        1,\n        {\n            \"b\": [\n                true,\n                null,\n"
                + "                {\n                    \"c\": \"d\"\n                }\n            ]\n        }\n    ],\n    \"e\": {}\n}";
        for (String pretty : List.of(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc), python4,
                python4.replace("    ", "\t"), python4.replace("\n", "\r\n"), "{ \"a\" : [ 1 ] }")) {
            assertThat(firstRefused(g.start(), utf8(pretty))).as(pretty).isEqualTo(-1);
        }
        assertThat(firstRefused(g.start(), utf8("{  "))).isEqualTo(2);            // two spaces: refused at the second
        assertThat(firstRefused(g.start(), utf8("  {}"))).isEqualTo(1);
        assertThat(firstRefused(g.start(), utf8("{\n     \"a\"") )).isEqualTo(6); // depth 1: at most 4 after the break
        assertThat(firstRefused(g.start(), utf8("{\n\n"))).isEqualTo(2);          // no blank lines
        assertThat(firstRefused(g.start(), utf8("{\r }"))).isEqualTo(2);          // CR only before LF
        assertThat(firstRefused(g.start(), utf8("\n {}"))).isEqualTo(1);          // top level: no indentation
        assertThat(firstRefused(g.start(), utf8("{\"a\":1} "))).isEqualTo(7);     // nothing after the value
        String deep = "[[[[[[[[" + "\n" + " ".repeat(g.maxWhitespace());
        assertThat(firstRefused(JsonGrammar.anyValue().start(), utf8(deep + " "))).isEqualTo(deep.length()); // maxWhitespace in all
        assertThat(firstRefused(g.withMaxWhitespace(0).start(), utf8("{\n "))).isEqualTo(2);
    }

    @Test
    void numbersAreLimitedInLength() {
        String twenty = "1".repeat(Frame.MAX_INTEGER_DIGITS);
        assertThat(firstRefused(JsonGrammar.anyValue().start(), utf8("[" + twenty + "1]"))).isEqualTo(1 + Frame.MAX_INTEGER_DIGITS);
        assertThat(firstRefused(JsonGrammar.anyValue().start(), utf8("[1e123]"))).isEqualTo(5);
    }

    // ------------------------------------------------------------------ random documents and mutations

    private static JsonNode randomValue(Random r, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        int kind = r.nextInt(depth > 3 ? 5 : 7);
        return switch (kind) {
            case 0 -> f.textNode(randomString(r));
            case 1 -> r.nextBoolean() ? f.numberNode(r.nextInt(2_000_001) - 1_000_000) : f.numberNode(r.nextGaussian() * Math.pow(10, r.nextInt(12) - 6));
            case 2 -> f.booleanNode(r.nextBoolean());
            case 3 -> f.nullNode();
            case 4 -> f.numberNode(r.nextLong());
            case 5 -> {
                ObjectNode o = f.objectNode();
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) o.set(randomString(r), randomValue(r, depth + 1));
                yield o;
            }
            default -> {
                ArrayNode a = f.arrayNode();
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) a.add(randomValue(r, depth + 1));
                yield a;
            }
        };
    }

    private static String randomString(Random r) {
        String[] pieces = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u0001", "é", "中", "😀", "\u007f", "key", "0"};
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) sb.append(pieces[r.nextInt(pieces.length)]);
        return sb.toString();
    }

    private static List<byte[]> randomDocuments(int count, long seed) throws Exception {
        Random r = new Random(seed);
        List<byte[]> docs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            JsonNode v = randomValue(r, 0);
            docs.add(i % 2 == 0 ? JACKSON.writeValueAsBytes(v) : JACKSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(v));
        }
        return docs;
    }

    @Test
    void randomDocumentsWrittenByJacksonAreAcceptedPrefixByPrefix() throws Exception {
        for (byte[] doc : randomDocuments(300, 1)) assertEveryPrefixAliveAndWholeComplete(JsonGrammar.anyValue(), doc);
    }

    /** Whether some string or key of the tree holds a UTF-16 surrogate that is not part of a pair. */
    static boolean hasLoneSurrogate(JsonNode n) {
        if (n.isTextual()) return loneSurrogate(n.textValue());
        for (var it = n.fields(); it.hasNext(); ) {
            var e = it.next();
            if (loneSurrogate(e.getKey()) || hasLoneSurrogate(e.getValue())) return true;
        }
        if (n.isArray()) for (JsonNode c : n) if (hasLoneSurrogate(c)) return true;
        return false;
    }

    private static boolean loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return true;
        }
        return false;
    }

    /**
     * Mutations with ASCII bytes of valid documents: the automaton accepts a mutant exactly when Jackson does,
     * except where it is stricter by design: no whitespace after the top-level value, no lone surrogate escapes,
     * whitespace only as pretty printers write it ({@link #whitespaceAsPrettyPrinted}).
     */
    @Test
    void mutantsAreAcceptedExactlyWhenJacksonAcceptsThem() throws Exception {
        Random r = new Random(2);
        byte[] alphabet = utf8("{}[]\",:\\ 0123456789-+.eEtrufalsn\tx/");
        int accepted = 0, refused = 0;
        for (byte[] doc : randomDocuments(400, 3)) {
            for (int m = 0; m < 5; m++) {
                byte[] mutant = mutate(doc, r, alphabet);
                // past the automaton's documented number limits (anywhere in the text: conservative)
                if (LONG_NUMBER_PART.matcher(new String(mutant, StandardCharsets.UTF_8)).find()) continue;
                boolean reference = jacksonAccepts(mutant) && !Character.isWhitespace(mutant[mutant.length - 1])
                        && !hasLoneSurrogate(JACKSON.readTree(mutant)) && whitespaceAsPrettyPrinted(mutant, 20);
                JsonState s = run(JsonGrammar.anyValue().start(), mutant);
                boolean ours = s != null && s.canEnd();
                assertThat(ours).as("mutant %s", new String(mutant, StandardCharsets.UTF_8)).isEqualTo(reference);
                if (ours) accepted++;
                else refused++;
            }
        }
        assertThat(accepted).isGreaterThan(100);
        assertThat(refused).isGreaterThan(100);
    }

    /**
     * The documented whitespace rule, written here from its statement: outside strings, each run of whitespace is one
     * space, or a line break ({@code \n} or {@code \r\n}) followed by spaces and tabs, at most 4 per bracket open
     * at that point and {@code max} in all.
     */
    static boolean whitespaceAsPrettyPrinted(byte[] text, int max) {
        String t = new String(text, StandardCharsets.UTF_8);
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') inString = true;
            else if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') depth--;
            else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                int j = i;
                while (j < t.length() && " \t\n\r".indexOf(t.charAt(j)) >= 0) j++;
                String run = t.substring(i, j);
                boolean ok = run.equals(" ") || run.matches("\r?\n[ \t]*") && run.replaceFirst("^\r?\n", "").length() <= Math.min(max, 4 * depth);
                if (!ok) return false;
                i = j - 1;
            }
        }
        return true;
    }

    private static final java.util.regex.Pattern LONG_NUMBER_PART = java.util.regex.Pattern.compile(
            "[eE][+-]?\\d{" + (Frame.MAX_EXPONENT_DIGITS + 1) + "}|\\d{" + (Frame.MAX_INTEGER_DIGITS + 1) + "}");

    private static byte[] mutate(byte[] doc, Random r, byte[] alphabet) {
        int at = r.nextInt(doc.length + 1);
        byte b = alphabet[r.nextInt(alphabet.length)];
        // mutate only outside multi-byte characters so that the mutant stays UTF-8 (that part has its own test)
        while (at < doc.length && (doc[at] & 0xC0) == 0x80) at++;
        return switch (r.nextInt(3)) {
            case 0 -> { // insert
                byte[] out = new byte[doc.length + 1];
                System.arraycopy(doc, 0, out, 0, at);
                out[at] = b;
                System.arraycopy(doc, at, out, at + 1, doc.length - at);
                yield out;
            }
            case 1 -> { // delete
                if (at == doc.length || (doc[at] & 0x80) != 0) yield doc;
                byte[] out = new byte[doc.length - 1];
                System.arraycopy(doc, 0, out, 0, at);
                System.arraycopy(doc, at + 1, out, at, doc.length - at - 1);
                yield out;
            }
            default -> { // replace
                if (at == doc.length || (doc[at] & 0x80) != 0) yield doc;
                byte[] out = doc.clone();
                out[at] = b;
                yield out;
            }
        };
    }
}
