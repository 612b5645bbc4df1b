package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static ai.autoglm.core.generate.json.JsonAutomatonTest.firstRefused;
import static ai.autoglm.core.generate.json.JsonAutomatonTest.utf8;
import static ai.autoglm.core.generate.json.SchemaValidator.errors;
import static ai.autoglm.core.generate.json.SchemaValidator.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The schema-driven automaton: random walks through it give documents that the networknt validator (independent)
 * finds valid; hand-written documents are accepted or refused where the schema says; unsupported keywords fail.
 */
class JsonSchemaGrammarTest {

    static final String PERSON = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":12},
              "age":{"type":"integer"},
              "tags":{"type":"array","items":{"type":"string","enum":["a","b","c"]},"minItems":1,"maxItems":3},
              "nick":{"type":["string","null"],"maxLength":5},
              "ok":{"type":"boolean"}},
             "required":["name","age","tags","nick","ok"],"additionalProperties":false}""";
    static final String OPTIONAL = """
            {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"string","maxLength":3}},
             "required":["b"],"additionalProperties":false}""";
    static final String DEFS = """
            {"$defs":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},
                               "required":["x","y"],"additionalProperties":false}},
             "type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},
             "required":["from","to"],"additionalProperties":false}""";
    static final String TREE = """
            {"type":"object","properties":{"value":{"type":"integer"},
               "children":{"type":"array","items":{"$ref":"#"},"maxItems":2}},
             "required":["value","children"],"additionalProperties":false}""";
    static final String SHAPES = """
            {"type":"object","properties":{"item":{"anyOf":[
               {"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},"required":["kind","r"],"additionalProperties":false},
               {"type":"object","properties":{"kind":{"const":"rect"},"w":{"type":"number"},"h":{"type":"number"}},"required":["kind","w","h"],"additionalProperties":false},
               {"type":"null"}]}},
             "required":["item"],"additionalProperties":false}""";
    static final String LENGTHS = """
            {"type":"object","properties":{"s":{"type":"string","minLength":2,"maxLength":3}},"required":["s"],"additionalProperties":false}""";
    static final String DICTIONARY = """
            {"type":"object","additionalProperties":{"type":"integer"}}""";
    static final String ENUM_ROOT = """
            {"enum":[1, 12, "x", null, {"a":[1]}, true, "x"]}""";
    static final String EMPTY = """
            {"type":"object","properties":{},"additionalProperties":false}""";
    static final String MATRIX = """
            {"type":"array","items":{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2},"minItems":1,"maxItems":4}""";

    /**
     * What generators write (victools with EXTRA_OPEN_API_FORMAT_VALUES, as Spring AI configures it; Pydantic's
     * ge/lt; int32/int64 formats, ranges, annotations. (Draft 4's boolean
     * exclusiveMinimum, which networknt's 2020-12 validator refuses, is in the range test below.)
     */
    static final String GENERATED = """
            {"$schema":"https://json-schema.org/draft/2020-12/schema","title":"Reading","description":"a reading",
             "type":"object","properties":{
              "count":{"type":"integer","format":"int32","description":"how many"},
              "id":{"type":"integer","format":"int64"},
              "pct":{"type":"integer","minimum":0,"maximum":100,"default":50,"examples":[1,2]},
              "temp":{"type":"integer","minimum":-40,"exclusiveMaximum":60},
              "big":{"type":"integer","minimum":1000,"maximum":250000},
              "neg":{"type":"integer","maximum":-7,"exclusiveMinimum":-12},
              "ratio":{"type":"number","format":"double"},
              "score":{"type":"number","exclusiveMinimum":0.5,"maximum":9.5},
              "level":{"enum":[1,5,9,"x"],"minimum":2},
              "label":{"type":"string","minLength":1,"maxLength":4,"title":"Label"}},
             "required":["count","id","pct","temp","big","neg","ratio","score","level","label"],"additionalProperties":false}""";

    static List<String> schemas() {
        return List.of(PERSON, OPTIONAL, DEFS, TREE, SHAPES, LENGTHS, DICTIONARY, ENUM_ROOT, EMPTY, MATRIX, GENERATED);
    }

    /**
     * A random document from the automaton: at each step one of the bytes it allows, closing bytes favoured so that
     * documents end; returns null when it grew too long.
     */
    static String randomWalk(JsonGrammar g, Random r) {
        JsonState s = g.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] allowed = new int[256];
        double[] weight = new double[256];
        while (out.size() < 4000) {
            if (s.isComplete() || (s.canEnd() && r.nextDouble() < 0.3)) {
                return out.toString(StandardCharsets.UTF_8);
            }
            int n = 0;
            double total = 0;
            for (int b = 0; b < 256; b++) {
                if (s.advance(b) == null) continue;
                double w = b == '"' || b == '}' || b == ']' ? 25 : b == ',' ? 2 : Frame.isWhitespace(b) ? 0.3 : 1;
                allowed[n] = b;
                weight[n++] = w;
                total += w;
            }
            assertThat(n).as("a live state allows some byte after %s", out.toString(StandardCharsets.UTF_8)).isPositive();
            double u = r.nextDouble() * total;
            int pick = n - 1;
            for (int i = 0; i < n; i++) {
                u -= weight[i];
                if (u < 0) {
                    pick = i;
                    break;
                }
            }
            out.write(allowed[pick]);
            s = s.advance(allowed[pick]);
        }
        return null;
    }

    @ParameterizedTest
    @MethodSource("schemas")
    void randomDocumentsOfTheAutomatonAreValidInstances(String schemaText) {
        JsonNode schema = parse(schemaText);
        JsonGrammar g = JsonGrammar.fromSchema(schema);
        Random r = new Random(schemaText.hashCode());
        Set<String> distinct = new HashSet<>();
        int finished = 0;
        for (int i = 0; i < 300; i++) {
            String doc = randomWalk(g, r);
            if (doc == null) continue;
            finished++;
            distinct.add(doc);
            JsonNode instance = parse(doc);
            assertThat(errors(schema, instance)).as("%s", doc).isEmpty();
        }
        assertThat(finished).isGreaterThan(250);
        assertThat(distinct.size()).isGreaterThan(schemaText.equals(EMPTY) ? 0 : 5);
    }

    private static JsonState accept(String schema, String doc) {
        return JsonGrammar.fromSchema(parse(schema)).start().advance(utf8(doc));
    }

    private static int refused(String schema, String doc) {
        return firstRefused(JsonGrammar.fromSchema(parse(schema)).start(), utf8(doc));
    }

    @Test
    void propertiesComeInSchemaOrderRequiredOnesAlwaysOptionalOnesMaybe() {
        for (String ok : List.of("{\"b\":1}", "{\"a\":1,\"b\":2}", "{\"b\":1,\"c\":\"xyz\"}", "{ \"a\" : 1 , \"b\" : 2 , \"c\" : \"\" }")) {
            assertThat(accept(OPTIONAL, ok)).as(ok).isNotNull().matches(JsonState::isComplete);
            assertThat(errors(parse(OPTIONAL), parse(ok))).isEmpty();
        }
        assertThat(refused(OPTIONAL, "{\"b\":1,\"a\":1}")).isEqualTo(8);  // a after b: out of order
        assertThat(refused(OPTIONAL, "{}")).isEqualTo(1);                // b is required
        assertThat(refused(OPTIONAL, "{\"c\":\"x\"}")).isEqualTo(2);      // c cannot skip b
        assertThat(refused(OPTIONAL, "{\"b\":1,\"d\":1}")).isEqualTo(8);  // no additional properties
        assertThat(refused(OPTIONAL, "{\"b\":1,}")).isEqualTo(7);
        assertThat(refused(OPTIONAL, "{\"b\":1.5}")).isEqualTo(6);        // integer
        assertThat(refused(EMPTY, "{\"")).isEqualTo(1);
        assertThat(accept(EMPTY, "{}").isComplete()).isTrue();
    }

    @Test
    void stringLengthsCountCodePointsLikeTheValidator() {
        // "😀" is one character (two UTF-16 units, four UTF-8 bytes); an escaped surrogate pair is one too
        for (String ok : List.of("{\"s\":\"😀😀\"}", "{\"s\":\"\\uD83D\\uDE00é\"}", "{\"s\":\"a\\n中\"}", "{\"s\":\"ab\"}")) {
            assertThat(accept(LENGTHS, ok)).as(ok).isNotNull().matches(JsonState::isComplete);
            assertThat(errors(parse(LENGTHS), parse(ok))).as(ok).isEmpty();
        }
        String tooShort = "{\"s\":\"😀\"}";
        assertThat(refused(LENGTHS, tooShort)).isEqualTo(utf8(tooShort).length - 2);
        assertThat(errors(parse(LENGTHS), parse(tooShort))).isNotEmpty();
        String tooLong = "{\"s\":\"中中中中\"}";
        assertThat(refused(LENGTHS, tooLong)).isEqualTo(6 + 9);
        assertThat(errors(parse(LENGTHS), parse(tooLong))).isNotEmpty();
        assertThat(refused(LENGTHS, "{\"s\":\"abc\\n\"}")).isEqualTo(9);
    }

    @Test
    void anyOfKeepsBothBranchesUntilTheyDiffer() {
        assertThat(accept(SHAPES, "{\"item\":{\"kind\":\"rect\",\"w\":1,\"h\":2}}").isComplete()).isTrue();
        assertThat(accept(SHAPES, "{\"item\":{\"kind\":\"circle\",\"r\":0.5}}").isComplete()).isTrue();
        assertThat(accept(SHAPES, "{\"item\":null}").isComplete()).isTrue();
        assertThat(refused(SHAPES, "{\"item\":{\"kind\":\"circle\",\"w\"")).isEqualTo(26);
        assertThat(refused(SHAPES, "{\"item\":{\"kind\":\"square\"")).isEqualTo(17);
    }

    @Test
    void enumLiteralsThatArePrefixesOfOthersMayEndOrGoOn() {
        JsonState one = accept(ENUM_ROOT, "1");
        assertThat(one.canEnd()).isTrue();
        assertThat(one.isComplete()).isFalse();
        assertThat(one.advance('2').isComplete()).isTrue();
        assertThat(one.advance('3')).isNull();
        assertThat(accept(ENUM_ROOT, "{\"a\":[1]}").isComplete()).isTrue();
        assertThat(refused(ENUM_ROOT, "{\"a\":[2]}")).isEqualTo(6);
        assertThat(refused(ENUM_ROOT, "false")).isEqualTo(0);
    }

    @Test
    void recursiveReferencesNest() {
        String doc = "{\"value\":1,\"children\":[{\"value\":2,\"children\":[{\"value\":3,\"children\":[]}]},{\"value\":4,\"children\":[]}]}";
        assertThat(accept(TREE, doc).isComplete()).isTrue();
        assertThat(refused(TREE, "{\"value\":1,\"children\":[{\"value\":2}")).isEqualTo(33);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pattern", "oneOf", "allOf", "not", "prefixItems",
            "uniqueItems", "patternProperties", "if", "minProperties", "multipleOf", "dependentRequired"})
    void unsupportedKeywordsAreNamed(String keyword) {
        JsonNode schema = parse("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\",\"" + keyword + "\":1}}}");
        assertThatThrownBy(() -> JsonGrammar.fromSchema(schema))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + keyword + "'").hasMessageContaining("#/properties/x");
        JsonNode format = parse("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"strict\":true,\"schema\":" + schema + "}}");
        assertThatThrownBy(() -> ResponseFormats.grammar(format))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("response_format.json_schema.schema: ").hasMessageContaining("'" + keyword + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"$ref\":\"http://example.com/s.json\"}",
            "{\"$ref\":\"#/$defs/missing\"}",
            "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}",
            "{\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"},{\"type\":\"null\"}]}},\"$ref\":\"#/$defs/a\"}",
            "{\"type\":\"object\",\"properties\":{\"x\":{\"anyOf\":[{\"$ref\":\"#/properties/x\"},{\"type\":\"null\"}]}}}",
            "{\"type\":\"string\",\"minLength\":3,\"maxLength\":2}",
            "{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}",
            "{\"type\":\"number\",\"minimum\":0.2,\"maximum\":0.8}",
            "{\"type\":\"integer\",\"format\":\"int32\",\"minimum\":3000000000}",
            "{\"type\":\"integer\",\"minimum\":\"1\"}",
            "{\"type\":\"array\",\"minItems\":-1}",
            "{\"type\":\"strings\"}",
            "{\"type\":\"string\",\"enum\":[1,2]}",
            "{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"b\"]}",
            "{\"anyOf\":[]}",
            "{\"type\":\"string\",\"anyOf\":[{\"type\":\"string\"}]}",
            "false",
            "[]",
    })
    void badSchemasAreRefusedWithAReason(String schema) {
        assertThatThrownBy(() -> JsonGrammar.fromSchema(parse(schema)))
                .isInstanceOf(IllegalArgumentException.class).message().isNotBlank();
    }

    @Test
    void responseFormatTypes() {
        assertThat(ResponseFormats.grammar(parse("{\"type\":\"text\"}"))).isEmpty();
        assertThat(ResponseFormats.grammar(null)).isEmpty();
        assertThat(ResponseFormats.grammar(parse("{\"type\":\"json_object\"}"))).contains(JsonGrammar.anyObject());
        JsonGrammar g = ResponseFormats.grammar(parse("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":" + OPTIONAL + "}}")).orElseThrow();
        assertThat(g.start().advance(utf8("{\"b\":1}")).isComplete()).isTrue();
        for (String bad : List.of("{\"type\":\"xml\"}", "{}", "\"json_object\"", "{\"type\":\"json_schema\"}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a b\",\"schema\":{}}}")) {
            assertThatThrownBy(() -> ResponseFormats.grammar(parse(bad))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("response_format");
        }
    }

    /**
     * Integer ranges against a reference written here from the definitions: every text of up to five bytes over
     * {@code -0123456789} is accepted as a complete value exactly when it is a canonical JSON integer (RFC 8259
     * section 6, without {@code -0}) inside the range, and every accepted prefix can still be completed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"minimum\":0,\"maximum\":100", "\"minimum\":-40,\"exclusiveMaximum\":60",
            "\"minimum\":150,\"maximum\":2345", "\"exclusiveMinimum\":-12,\"maximum\":-7", "\"minimum\":7,\"maximum\":7",
            "\"minimum\":-1.5,\"maximum\":12.5", "\"maximum\":-100", "\"minimum\":5", "\"minimum\":0,\"exclusiveMinimum\":true,\"maximum\":10"})
    void integerRangesAcceptExactlyTheCanonicalIntegersInRange(String bounds) {
        JsonNode schema = parse("{\"type\":\"integer\"," + bounds + "}");
        JsonGrammar g = JsonGrammar.fromSchema(schema);
        java.math.BigDecimal lo = schema.has("minimum") ? schema.get("minimum").decimalValue() : null;
        java.math.BigDecimal hi = schema.has("maximum") ? schema.get("maximum").decimalValue() : null;
        java.math.BigDecimal exLo = schema.path("exclusiveMinimum").isNumber() ? schema.get("exclusiveMinimum").decimalValue()
                : schema.path("exclusiveMinimum").asBoolean(false) ? lo : null;
        if (schema.path("exclusiveMinimum").isBoolean()) lo = null;
        java.math.BigDecimal exHi = schema.has("exclusiveMaximum") ? schema.get("exclusiveMaximum").decimalValue() : null;
        String alphabet = "-0123456789";
        List<String> texts = new java.util.ArrayList<>(List.of(""));
        int accepted = 0;
        for (int len = 1; len <= 5; len++) {
            List<String> next = new java.util.ArrayList<>();
            for (String t : texts) for (char c : alphabet.toCharArray()) next.add(t + c);
            texts = next;
            for (String t : texts) {
                boolean canonical = t.matches("-?(0|[1-9][0-9]*)") && !t.equals("-0");
                boolean expected = false;
                if (canonical) {
                    java.math.BigDecimal v = new java.math.BigDecimal(t);
                    expected = (lo == null || v.compareTo(lo) >= 0) && (hi == null || v.compareTo(hi) <= 0)
                            && (exLo == null || v.compareTo(exLo) > 0) && (exHi == null || v.compareTo(exHi) < 0);
                }
                JsonState st = g.start().advance(utf8(t));
                assertThat(st != null && st.canEnd()).as("%s with %s", t, bounds).isEqualTo(expected);
                if (expected) accepted++;
                if (st != null && !st.canEnd()) {
                    // a live prefix that is not yet a value must lead to one: a digit exists that keeps it alive
                    boolean goesOn = false;
                    for (char c : "0123456789".toCharArray()) goesOn |= st.advance(c) != null;
                    assertThat(goesOn).as("prefix %s with %s is a dead end", t, bounds).isTrue();
                }
            }
            texts = texts.stream().filter(t -> g.start().advance(utf8(t)) != null).toList(); // extend live prefixes only
        }
        assertThat(accepted).isPositive();
    }

    @Test
    void openApiIntegerFormatsAreTheJavaRanges() {
        String int32 = "{\"type\":\"integer\",\"format\":\"int32\"}";
        assertThat(accept(int32, "2147483647").canEnd()).isTrue();
        assertThat(accept(int32, "-2147483648").canEnd()).isTrue();
        assertThat(accept(int32, "2147483648")).isNull();
        assertThat(accept(int32, "-2147483649")).isNull();
        assertThat(accept(int32, "21474836470")).isNull();
        String int64 = "{\"type\":\"integer\",\"format\":\"int64\"}";
        assertThat(accept(int64, "9223372036854775807").canEnd()).isTrue();
        assertThat(accept(int64, "9223372036854775808")).isNull();
        // a number with an integer format is an integer; a float format and string formats constrain nothing here
        assertThat(accept("{\"type\":\"number\",\"format\":\"int32\"}", "1.5")).isNull();
        assertThat(accept("{\"type\":\"number\",\"format\":\"float\"}", "1.5e3").canEnd()).isTrue();
        assertThat(accept("{\"type\":\"string\",\"format\":\"date-time\"}", "\"x\"").isComplete()).isTrue();
        // a number with bounds keeps to the integers inside them
        String score = "{\"type\":\"number\",\"exclusiveMinimum\":0.5,\"maximum\":9.5}";
        assertThat(accept(score, "1").canEnd()).isTrue();
        assertThat(accept(score, "9").canEnd()).isTrue();
        assertThat(accept(score, "0")).isNull();
        assertThat(accept(score, "10")).isNull();
        assertThat(accept(score, "1.")).isNull();
        // enum values outside the bounds are dropped
        assertThat(accept("{\"enum\":[1,5,9,\"x\"],\"minimum\":2}", "1")).isNull();
        assertThat(accept("{\"enum\":[1,5,9,\"x\"],\"minimum\":2}", "\"x\"").isComplete()).isTrue();
    }
}
