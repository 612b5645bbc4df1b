package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema to {@link ValueRule}s: the subset OpenAI structured outputs accepts
 * (platform.openai.com/docs/guides/structured-outputs, "Supported schemas") plus the keywords schema generators
 * (victools jsonschema-generator as Spring AI and openai-java configure it, Pydantic, zod-to-json-schema) write.
 * Every generated value is an instance of the schema; where the schema allows more than the rules can express, the
 * rules keep to a subset:
 * <ul>
 *   <li>{@code properties}: only the declared properties, in the schema's order, required ones always, optional
 *       ones possibly skipped (what OpenAI's strict mode writes); {@code additionalProperties} matters only for an
 *       object without {@code properties} (then it is the schema of every value, any key);</li>
 *   <li>{@code enum}/{@code const}: the values written the way Jackson writes them (compact, strings escaped only
 *       where they must be);</li>
 *   <li>{@code integer}: digits only, no {@code 1.0} or {@code 1e3}; a schema without {@code type} takes its
 *       type from its keywords ({@code properties} → object, {@code items} → array, ...) or is any value;</li>
 *   <li>{@code minimum}, {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum} (numbers, or draft 4's
 *       booleans) and {@code format} {@code int32}/{@code int64} bound an integer exactly; on a {@code number} they
 *       make it an integer in the range (a subset of the numbers allowed);</li>
 *   <li>{@code minLength}/{@code maxLength}, {@code minItems}/{@code maxItems} are enforced.</li>
 * </ul>
 * Ignored, because they do not constrain the value or are annotations by default in draft 2020-12: {@code format}
 * on strings and the float formats ({@code float}, {@code double}; JSON Schema 2020-12 section 7.2.1: format is an
 * annotation unless a validator opts in), {@code title}, {@code description}, {@code default}, {@code examples},
 * {@code $schema}, {@code $id}, {@code $comment}, {@code deprecated}, {@code readOnly}, {@code writeOnly},
 * {@code contentMediaType}, {@code contentEncoding}. Any other keyword (e.g. {@code pattern}, {@code multipleOf},
 * {@code allOf}, {@code oneOf}, {@code not}) is an {@link IllegalArgumentException} naming it and where it is:
 * output that ignored it could break the schema.
 */
final class JsonSchemaCompiler {

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
            "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions",
            "contentMediaType", "contentEncoding");
    /** Keywords that bound a number (JSON Schema validation 2020-12 section 6.2; draft 4's boolean exclusive forms). */
    private static final Set<String> NUMBER_KEYWORDS = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final BigInteger INT32_MIN = BigInteger.valueOf(Integer.MIN_VALUE), INT32_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE), INT64_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final Set<String> OBJECT_KEYWORDS = Set.of("properties", "required", "additionalProperties");
    private static final Set<String> ARRAY_KEYWORDS = Set.of("items", "minItems", "maxItems");
    private static final Set<String> STRING_KEYWORDS = Set.of("minLength", "maxLength");
    private static final Set<String> SUPPORTED;

    static {
        Set<String> s = new LinkedHashSet<>(List.of("type", "enum", "const", "anyOf", "$ref", "format"));
        s.addAll(NUMBER_KEYWORDS);
        s.addAll(OBJECT_KEYWORDS);
        s.addAll(ARRAY_KEYWORDS);
        s.addAll(STRING_KEYWORDS);
        SUPPORTED = Set.copyOf(s);
    }

    private final JsonNode root;
    private final Map<String, ValueRule.Ref> refs = new HashMap<>();
    /** Every anyOf made: flattened before the grammar is shared, so that threads only ever read them. */
    private final List<ValueRule.AnyOf> choices = new ArrayList<>();

    private JsonSchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** The rule of {@code schema}; throws IllegalArgumentException naming an unsupported keyword and its path. */
    static ValueRule compile(JsonNode schema) {
        JsonSchemaCompiler c = new JsonSchemaCompiler(schema);
        ValueRule rule = c.rule(schema, "#");
        try {
            rule.alternatives();
            for (ValueRule.Ref r : c.refs.values()) r.alternatives();
            for (ValueRule.AnyOf a : c.choices) a.alternatives();
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("the schema's anyOf/$ref nest too deeply");
        }
        return rule;
    }

    private ValueRule rule(JsonNode schema, String path) {
        if (schema.isBoolean()) {
            if (schema.booleanValue()) return AnyJson.VALUE;
            throw new IllegalArgumentException("schema at " + path + " is false: no value can match it");
        }
        if (!schema.isObject()) {
            throw new IllegalArgumentException("schema at " + path + " must be an object or a boolean, got " + schema.getNodeType());
        }
        List<String> constraints = new ArrayList<>();
        for (var it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (ANNOTATIONS.contains(k)) continue;
            if (!SUPPORTED.contains(k)) {
                throw new IllegalArgumentException("unsupported JSON Schema keyword '" + k + "' at " + path
                        + " (supported: type, properties, required, additionalProperties, items, minItems, maxItems, "
                        + "minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum, format, enum, const, "
                        + "anyOf, $ref, $defs; annotations such as title, description, default, examples are ignored)");
            }
            constraints.add(k);
        }
        constraints.remove("format"); // a format alone constrains nothing: it matters only with a numeric type below
        if (schema.has("$ref")) {
            alone("$ref", constraints, path);
            return ref(text(schema.get("$ref"), path + "/$ref"), path);
        }
        if (schema.has("anyOf")) {
            alone("anyOf", constraints, path);
            JsonNode options = schema.get("anyOf");
            if (!options.isArray() || options.isEmpty()) {
                throw new IllegalArgumentException(path + "/anyOf must be a non-empty array of schemas");
            }
            List<ValueRule> rules = new ArrayList<>();
            for (int i = 0; i < options.size(); i++) rules.add(rule(options.get(i), path + "/anyOf/" + i));
            return anyOf(rules);
        }
        List<String> types = types(schema, constraints, path);
        if (schema.has("enum") || schema.has("const")) {
            for (String k : constraints) {
                if (!k.equals("type") && !k.equals("enum") && !k.equals("const") && !NUMBER_KEYWORDS.contains(k)) {
                    throw new IllegalArgumentException("'" + k + "' together with enum/const at " + path + " is not supported");
                }
            }
            return literals(schema, types, path);
        }
        if (types.isEmpty()) return AnyJson.VALUE;
        List<ValueRule> rules = new ArrayList<>();
        for (String t : types) rules.add(typed(t, schema, path));
        return rules.size() == 1 ? rules.getFirst() : anyOf(rules);
    }

    private ValueRule.AnyOf anyOf(List<ValueRule> rules) {
        ValueRule.AnyOf a = new ValueRule.AnyOf(rules);
        choices.add(a);
        return a;
    }

    private static void alone(String keyword, List<String> constraints, String path) {
        for (String k : constraints) {
            if (!k.equals(keyword)) {
                throw new IllegalArgumentException("'" + k + "' next to '" + keyword + "' at " + path + " is not supported");
            }
        }
    }

    /** The listed types, or the one the keywords imply, or none (any value). */
    private static List<String> types(JsonNode schema, List<String> constraints, String path) {
        JsonNode type = schema.get("type");
        List<String> types = new ArrayList<>();
        if (type == null) {
            if (constraints.stream().anyMatch(OBJECT_KEYWORDS::contains)) types.add("object");
            else if (constraints.stream().anyMatch(ARRAY_KEYWORDS::contains)) types.add("array");
            else if (constraints.stream().anyMatch(STRING_KEYWORDS::contains)) types.add("string");
            // bounds on an enum filter its numbers (see literals), they do not make its strings invalid
            else if (constraints.stream().anyMatch(NUMBER_KEYWORDS::contains) && !constraints.contains("enum")
                    && !constraints.contains("const")) types.add("number");
            return types;
        }
        if (type.isTextual()) {
            types.add(type.textValue());
        } else if (type.isArray() && !type.isEmpty()) {
            for (JsonNode t : type) types.add(text(t, path + "/type"));
        } else {
            throw new IllegalArgumentException(path + "/type must be a type name or a non-empty array of them");
        }
        for (String t : types) {
            if (!List.of("object", "array", "string", "number", "integer", "boolean", "null").contains(t)) {
                throw new IllegalArgumentException(path + "/type: unknown type '" + t
                        + "' (expected object, array, string, number, integer, boolean or null)");
            }
        }
        return List.copyOf(new LinkedHashSet<>(types));
    }

    private ValueRule typed(String type, JsonNode schema, String path) {
        return switch (type) {
            case "object" -> object(schema, path);
            case "array" -> {
                int min = count(schema, "minItems", 0, path);
                int max = count(schema, "maxItems", ValueRule.UNLIMITED, path);
                if (min > max) throw new IllegalArgumentException("minItems > maxItems at " + path);
                JsonNode items = schema.get("items");
                ValueRule itemRule = items == null ? AnyJson.VALUE : rule(items, path + "/items");
                yield new ValueRule.ArrayRule(itemRule, min, max);
            }
            case "string" -> {
                int min = count(schema, "minLength", 0, path);
                int max = count(schema, "maxLength", ValueRule.UNLIMITED, path);
                if (min > max) throw new IllegalArgumentException("minLength > maxLength at " + path);
                yield min == 0 && max == ValueRule.UNLIMITED ? AnyJson.STRING : new ValueRule.StringRule(min, max);
            }
            case "number", "integer" -> number(type.equals("integer"), schema, path);
            case "boolean" -> AnyJson.BOOLEAN;
            case "null" -> AnyJson.NULL;
            default -> throw new IllegalStateException(type);
        };
    }

    /**
     * A number or integer rule: bounds and an integer format make it an {@link ValueRule.IntegerRangeRule}; a
     * {@code number} with bounds is kept to the integers in them (a subset: the automaton cannot compare decimal
     * fractions with a bound while they are written).
     */
    private static ValueRule number(boolean integer, JsonNode schema, String path) {
        BigInteger[] range = integerRange(schema, path);
        String format = schema.path("format").asText("");
        if (format.equals("int32")) range = intersect(range, INT32_MIN, INT32_MAX, path);
        else if (format.equals("int64")) range = intersect(range, INT64_MIN, INT64_MAX, path);
        if (range[0] == null && range[1] == null) {
            if (format.equals("int32") || format.equals("int64") || integer) return AnyJson.INTEGER;
            return AnyJson.NUMBER;
        }
        return new ValueRule.IntegerRangeRule(range[0], range[1]);
    }

    /** {@code [lowest, highest]} integer the numeric keywords allow (null: unbounded); throws when none is. */
    private static BigInteger[] integerRange(JsonNode schema, String path) {
        BigInteger lo = null, hi = null;
        JsonNode exMin = schema.get("exclusiveMinimum"), exMax = schema.get("exclusiveMaximum");
        for (String k : List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) {
            JsonNode n = schema.get(k);
            if (n == null || (n.isBoolean() && k.startsWith("exclusive"))) continue;
            if (!n.isNumber()) throw new IllegalArgumentException(path + "/" + k + " must be a number, got " + n);
        }
        if (schema.has("minimum")) {
            BigDecimal m = schema.get("minimum").decimalValue();
            // draft 4 / OpenAPI 3.0: exclusiveMinimum: true makes minimum exclusive
            boolean exclusive = exMin != null && exMin.isBoolean() && exMin.booleanValue();
            lo = exclusive ? floor(m).add(BigInteger.ONE) : ceil(m);
        }
        if (exMin != null && exMin.isNumber()) lo = max(lo, floor(exMin.decimalValue()).add(BigInteger.ONE));
        if (schema.has("maximum")) {
            BigDecimal m = schema.get("maximum").decimalValue();
            boolean exclusive = exMax != null && exMax.isBoolean() && exMax.booleanValue();
            hi = exclusive ? ceil(m).subtract(BigInteger.ONE) : floor(m);
        }
        if (exMax != null && exMax.isNumber()) hi = min(hi, ceil(exMax.decimalValue()).subtract(BigInteger.ONE));
        return intersect(new BigInteger[]{lo, hi}, null, null, path);
    }

    private static BigInteger[] intersect(BigInteger[] range, BigInteger lo, BigInteger hi, String path) {
        BigInteger a = max(range[0], lo), b = min(range[1], hi);
        if (a != null && b != null && a.compareTo(b) > 0) {
            throw new IllegalArgumentException("no integer satisfies minimum/maximum/format at " + path
                    + " (numbers with a fraction in a range are not supported)");
        }
        return new BigInteger[]{a, b};
    }

    private static BigInteger floor(BigDecimal d) {
        return d.setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
    }

    private static BigInteger ceil(BigDecimal d) {
        return d.setScale(0, RoundingMode.CEILING).toBigIntegerExact();
    }

    private static BigInteger max(BigInteger a, BigInteger b) {
        return a == null ? b : b == null ? a : a.max(b);
    }

    private static BigInteger min(BigInteger a, BigInteger b) {
        return a == null ? b : b == null ? a : a.min(b);
    }

    private ValueRule object(JsonNode schema, String path) {
        JsonNode properties = schema.get("properties");
        JsonNode additional = schema.get("additionalProperties");
        List<String> names = new ArrayList<>();
        List<ValueRule> values = new ArrayList<>();
        if (properties != null) {
            if (!properties.isObject()) throw new IllegalArgumentException(path + "/properties must be an object");
            for (var it = properties.fields(); it.hasNext(); ) {
                var e = it.next();
                names.add(e.getKey());
                values.add(rule(e.getValue(), path + "/properties/" + e.getKey()));
            }
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = schema.get("required");
        if (req != null) {
            if (!req.isArray()) throw new IllegalArgumentException(path + "/required must be an array of property names");
            for (JsonNode r : req) {
                String name = text(r, path + "/required");
                if (!names.contains(name)) {
                    throw new IllegalArgumentException(path + "/required names '" + name + "', which is not in properties");
                }
                required.add(name);
            }
        }
        ValueRule additionalRule = null;
        if (additional == null || (additional.isBoolean() && additional.booleanValue())) {
            additionalRule = AnyJson.VALUE;
        } else if (additional.isObject()) {
            additionalRule = rule(additional, path + "/additionalProperties");
        } else if (!additional.isBoolean()) {
            throw new IllegalArgumentException(path + "/additionalProperties must be a boolean or a schema");
        }
        List<Boolean> isRequired = names.stream().map(required::contains).toList();
        return new ValueRule.ObjectRule(names, values, isRequired, additionalRule);
    }

    private ValueRule literals(JsonNode schema, List<String> types, String path) {
        List<JsonNode> values = new ArrayList<>();
        if (schema.has("const")) values.add(schema.get("const"));
        if (schema.has("enum")) {
            JsonNode e = schema.get("enum");
            if (!e.isArray() || e.isEmpty()) throw new IllegalArgumentException(path + "/enum must be a non-empty array");
            e.forEach(values::add);
        }
        BigInteger[] range = integerRange(schema, path);
        boolean bounded = range[0] != null || range[1] != null;
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> texts = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        for (JsonNode v : values) {
            if (!types.isEmpty() && types.stream().noneMatch(t -> hasType(v, t))) continue;
            if (schema.has("const") && schema.has("enum") && !schema.get("const").equals(v)) continue;
            if (bounded && v.isNumber() && !inRange(v.decimalValue(), range)) continue;
            byte[] text = JsonText.compact(v);
            if (seen.add(new String(text, StandardCharsets.UTF_8))) {
                texts.add(text);
                tags.add(tags.size());
            }
        }
        if (texts.isEmpty()) throw new IllegalArgumentException("no enum/const value at " + path + " matches its type");
        return new ValueRule.LiteralRule(texts, tags);
    }

    /**
     * Whether {@code v} lies in the integer range made from the bounds. The integer bounds lie inside the schema's
     * (ceil of a minimum, floor of a maximum), so a value inside them satisfies the schema; a fraction between a
     * bound and its integer is left out (a subset, as everywhere here).
     */
    private static boolean inRange(BigDecimal v, BigInteger[] range) {
        return (range[0] == null || v.compareTo(new BigDecimal(range[0])) >= 0)
                && (range[1] == null || v.compareTo(new BigDecimal(range[1])) <= 0);
    }

    private static boolean hasType(JsonNode v, String type) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> false;
        };
    }

    /** A local reference ({@code #}, {@code #/$defs/name}, any JSON pointer into this schema). */
    private ValueRule ref(String ref, String path) {
        if (!ref.startsWith("#")) {
            throw new IllegalArgumentException("'$ref' at " + path + " is '" + ref + "': only references inside the schema ('#/...') are supported");
        }
        ValueRule.Ref known = refs.get(ref);
        if (known != null) return known;
        String pointer = URLDecoder.decode(ref.substring(1), StandardCharsets.UTF_8);
        JsonNode target = pointer.isEmpty() ? root : root.at(pointer);
        if (target.isMissingNode()) throw new IllegalArgumentException("'$ref' at " + path + " points nowhere: '" + ref + "'");
        ValueRule.Ref r = new ValueRule.Ref(ref);
        refs.put(ref, r); // before compiling the target, so that a recursive schema finds it
        r.target = rule(target, ref);
        return r;
    }

    private static int count(JsonNode schema, String keyword, int absent, String path) {
        JsonNode n = schema.get(keyword);
        if (n == null) return absent;
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
            throw new IllegalArgumentException(path + "/" + keyword + " must be a non-negative integer, got " + n);
        }
        return n.intValue();
    }

    private static String text(JsonNode n, String path) {
        if (n == null || !n.isTextual()) throw new IllegalArgumentException(path + " must be a string");
        return n.textValue();
    }
}
