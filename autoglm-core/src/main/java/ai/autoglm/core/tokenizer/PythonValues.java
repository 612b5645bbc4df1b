package ai.autoglm.core.tokenizer;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's view of template values, so that a Jinja template rendered by Jinjava prints what CPython's jinja2
 * prints: {@code str()} of a value, {@code repr()}, {@code json.dumps} (the {@code tojson} filter of
 * transformers' chat templates) and {@code str.isspace}. Values are the Java shapes a template sees: String,
 * Boolean, Number, Map (dict), List/Collection/array (list), null (None).
 */
final class PythonValues {

    private PythonValues() {}

    /** Python's {@code str(value)}: what {@code {{ value }}} prints in jinja2 (None prints "None"). */
    static String str(Object value) {
        if (value instanceof CharSequence s) return s.toString();
        return repr(value);
    }

    /** Python's {@code repr(value)}. */
    static String repr(Object value) {
        StringBuilder sb = new StringBuilder();
        appendRepr(sb, value);
        return sb.toString();
    }

    private static void appendRepr(StringBuilder sb, Object value) {
        if (value == null) {
            sb.append("None");
        } else if (value instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (value instanceof CharSequence s) {
            appendStringRepr(sb, s.toString());
        } else if (value instanceof Number n) {
            sb.append(number(n));
        } else if (value instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                appendRepr(sb, e.getKey());
                sb.append(": ");
                appendRepr(sb, e.getValue());
            }
            sb.append('}');
        } else if (asList(value) instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(", ");
                appendRepr(sb, list.get(i));
            }
            sb.append(']');
        } else if (value instanceof Map.Entry<?, ?> e) {
            sb.append('(');
            appendRepr(sb, e.getKey());
            sb.append(", ");
            appendRepr(sb, e.getValue());
            sb.append(')');
        } else {
            sb.append(value);
        }
    }

    /** A list view of a Python sequence value (List, other Collection, Object[]), or null. */
    static List<?> asList(Object value) {
        if (value instanceof List<?> l) return l;
        if (value instanceof Collection<?> c) return new ArrayList<>(c);
        if (value instanceof Object[] a) return List.of(a);
        return null;
    }

    /** Python's repr of a str: single quotes unless the text has ' and no ", escapes as CPython does. */
    private static void appendStringRepr(StringBuilder sb, String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') sb.append('\\').appendCodePoint(cp);
            else if (cp == '\n') sb.append("\\n");
            else if (cp == '\r') sb.append("\\r");
            else if (cp == '\t') sb.append("\\t");
            else if (cp < 0x20 || cp == 0x7f) sb.append(String.format("\\x%02x", cp));
            else if (cp >= 0x80 && !isPrintable(cp)) {
                if (cp <= 0xff) sb.append(String.format("\\x%02x", cp));
                else if (cp <= 0xffff) sb.append(String.format("\\u%04x", cp));
                else sb.append(String.format("\\U%08x", cp));
            } else sb.appendCodePoint(cp);
        }
        sb.append(quote);
    }

    /** Approximates CPython's str.isprintable for one code point (Unicode categories C* and Z* except space). */
    private static boolean isPrintable(int cp) {
        int type = Character.getType(cp);
        return switch (type) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Python's str of an int or float (floats: repr, shortest round-trip digits, 'e' notation as CPython). */
    static String number(Number n) {
        if (n instanceof Double || n instanceof Float) return floatRepr(n.doubleValue());
        if (n instanceof BigDecimal bd) return floatRepr(bd.doubleValue());
        if (n instanceof BigInteger || n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte) {
            return n.toString();
        }
        return n.toString();
    }

    /**
     * CPython's {@code float.__repr__}: the shortest digits that round-trip (Java's Double.toString gives the
     * same digits since JDK 19), written positionally when the decimal exponent is in [-4, 16), else as
     * {@code d.ddde+XX}.
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    /** Python's {@code str.isspace()} for one character: whitespace per Unicode (bidi WS/B/S or category Zs). */
    static boolean isSpace(int c) {
        return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85
            || Character.getType(c) == Character.SPACE_SEPARATOR
            || c == 0x2028 || c == 0x2029;
    }

    /**
     * Python's {@code json.dumps(value, ensure_ascii, indent, separators, sort_keys)}.
     *
     * @param indent     null for one line; a number of spaces or a string to indent with otherwise
     * @param separators null for the defaults ({@code ", "} and {@code ": "}, or {@code ","} with an indent)
     */
    static String jsonDumps(Object value, boolean ensureAscii, Object indent, List<?> separators, boolean sortKeys) {
        String indentUnit = null;
        if (indent instanceof Number n) indentUnit = " ".repeat(Math.max(0, n.intValue()));
        else if (indent != null) indentUnit = indent.toString();
        String itemSep = indentUnit == null ? ", " : ",";
        String keySep = ": ";
        if (separators != null) {
            if (separators.size() != 2) {
                throw new IllegalArgumentException("tojson: separators must be a pair (item_separator, key_separator)");
            }
            itemSep = str(separators.get(0));
            keySep = str(separators.get(1));
        }
        StringBuilder sb = new StringBuilder();
        new JsonWriter(sb, ensureAscii, indentUnit, itemSep, keySep, sortKeys).write(value, 0);
        return sb.toString();
    }

    private record JsonWriter(StringBuilder sb, boolean ensureAscii, String indent, String itemSep, String keySep,
                              boolean sortKeys) {

        void write(Object v, int depth) {
            if (v == null) sb.append("null");
            else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
            else if (v instanceof CharSequence s) string(s.toString());
            else if (v instanceof Number n) {
                if (n instanceof Double || n instanceof Float || n instanceof BigDecimal) {
                    double d = n.doubleValue();
                    // json.dumps writes NaN / Infinity / -Infinity (allow_nan=True)
                    if (Double.isNaN(d)) sb.append("NaN");
                    else if (Double.isInfinite(d)) sb.append(d > 0 ? "Infinity" : "-Infinity");
                    else sb.append(floatRepr(d));
                } else sb.append(n);
            } else if (v instanceof Map<?, ?> m) {
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                if (sortKeys) entries.sort((a, b) -> str(a.getKey()).compareTo(str(b.getKey())));
                if (entries.isEmpty()) { sb.append("{}"); return; }
                sb.append('{');
                for (int i = 0; i < entries.size(); i++) {
                    if (i > 0) sb.append(itemSep);
                    newline(depth + 1);
                    Object key = entries.get(i).getKey();
                    // json.dumps turns None/bool/number keys into strings
                    string(key instanceof Boolean b ? (b ? "true" : "false") : key == null ? "null"
                        : key instanceof Number num ? number(num) : key.toString());
                    sb.append(keySep);
                    write(entries.get(i).getValue(), depth + 1);
                }
                newline(depth);
                sb.append('}');
            } else if (asList(v) instanceof List<?> list) {
                if (list.isEmpty()) { sb.append("[]"); return; }
                sb.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) sb.append(itemSep);
                    newline(depth + 1);
                    write(list.get(i), depth + 1);
                }
                newline(depth);
                sb.append(']');
            } else if (v instanceof Map.Entry<?, ?> e) {
                write(List.of(e.getKey(), e.getValue()), depth); // a (key, value) tuple from dict.items()
            } else {
                throw new IllegalArgumentException("tojson: object of type " + v.getClass().getSimpleName()
                    + " is not JSON serializable");
            }
        }

        private void newline(int depth) {
            if (indent == null) return;
            sb.append('\n');
            sb.append(indent.repeat(depth));
        }

        /** json's encoder: escapes " \ and control characters; with ensure_ascii also every non-ASCII char. */
        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                    }
                }
            }
            sb.append('"');
        }
    }
}
