package ai.autoglm.server.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed, range-checked reads of request fields; a wrong type or value is a 400 naming the parameter. An absent
 * field or JSON null means "not given".
 */
final class Fields {
    private Fields() {
    }

    static boolean given(JsonNode root, String name) {
        JsonNode v = root.get(name);
        return v != null && !v.isNull();
    }

    static Double number(JsonNode root, String name, double min, double max) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isNumber()) throw ApiException.invalidParam(name, name + " must be a number, got " + v.getNodeType().name().toLowerCase());
        double d = v.asDouble();
        if (!(d >= min && d <= max)) throw ApiException.invalidParam(name, name + " must be between " + fmt(min) + " and " + fmt(max) + ", got " + v);
        return d;
    }

    static Long integer(JsonNode root, String name, long min, long max) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw ApiException.invalidParam(name, name + " must be an integer, got " + v);
        }
        if (!v.canConvertToLong()) throw ApiException.invalidParam(name, name + " is out of range: " + v);
        long l = v.asLong();
        if (l < min || l > max) throw ApiException.invalidParam(name, name + " must be between " + min + " and " + max + ", got " + l);
        return l;
    }

    static Boolean bool(JsonNode root, String name) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isBoolean()) throw ApiException.invalidParam(name, name + " must be true or false, got " + v);
        return v.asBoolean();
    }

    static String string(JsonNode root, String name) {
        if (!given(root, name)) return null;
        JsonNode v = root.get(name);
        if (!v.isTextual()) throw ApiException.invalidParam(name, name + " must be a string, got " + v.getNodeType().name().toLowerCase());
        return v.asText();
    }

    /** {@code stop}: a string or an array of up to {@code max} non-empty strings. */
    static List<String> stringOrList(JsonNode root, String name, int max) {
        if (!given(root, name)) return List.of();
        JsonNode v = root.get(name);
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isTextual()) throw ApiException.invalidParam(name, name + " must be a string or an array of strings");
                out.add(e.asText());
            }
        } else {
            throw ApiException.invalidParam(name, name + " must be a string or an array of strings");
        }
        if (out.size() > max) throw ApiException.invalidParam(name, name + " takes at most " + max + " strings, got " + out.size());
        if (out.stream().anyMatch(String::isEmpty)) throw ApiException.invalidParam(name, name + " strings must not be empty");
        return out;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
