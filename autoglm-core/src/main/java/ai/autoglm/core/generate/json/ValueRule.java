package ai.autoglm.core.generate.json;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What a JSON value may be: the compiled form of a JSON Schema (or of "any JSON value"), read by the
 * {@link JsonState} automaton. Rules compare by identity, so automaton states that point at them hash cheaply.
 * A schema compiles to a graph: {@link Ref} and recursive containers make cycles.
 */
sealed interface ValueRule permits ValueRule.AnyOf, ValueRule.Ref, ValueRule.ObjectRule, ValueRule.ArrayRule,
        ValueRule.StringRule, ValueRule.NumberRule, ValueRule.IntegerRangeRule, ValueRule.LiteralRule {

    /** "No limit" for lengths and counts. */
    int UNLIMITED = Integer.MAX_VALUE;

    /**
     * The concrete rules (object, array, string, number, literal) a value of this rule may follow: an anyOf and a
     * $ref are flattened. Computed once, when the schema is compiled (single-threaded); read-only afterwards.
     */
    List<ValueRule> alternatives();

    /** One of several rules (JSON Schema {@code anyOf}, or a list of types). */
    final class AnyOf implements ValueRule {
        final List<ValueRule> options;
        private List<ValueRule> flat;
        private boolean flattening;

        AnyOf(List<ValueRule> options) {
            this.options = List.copyOf(options);
        }

        @Override
        public List<ValueRule> alternatives() {
            if (flat == null) {
                if (flattening) throw new IllegalArgumentException("the schema's anyOf/$ref refer to themselves without an object or array in between");
                flattening = true;
                List<ValueRule> all = new ArrayList<>();
                for (ValueRule r : options) {
                    for (ValueRule a : r.alternatives()) if (!all.contains(a)) all.add(a);
                }
                flat = List.copyOf(all);
                flattening = false;
            }
            return flat;
        }
    }

    /** A {@code $ref}: its target is set once compiled, which allows recursive schemas. */
    final class Ref implements ValueRule {
        final String pointer;
        ValueRule target;
        private List<ValueRule> flat;
        private boolean resolving;

        Ref(String pointer) {
            this.pointer = pointer;
        }

        @Override
        public List<ValueRule> alternatives() {
            if (flat == null) {
                if (resolving) throw new IllegalArgumentException("'$ref' " + pointer + " refers to itself without an object or array in between");
                resolving = true;
                flat = target.alternatives();
                resolving = false;
            }
            return flat;
        }
    }

    /**
     * An object. With declared properties, exactly those may appear, in the schema's order (OpenAI strict mode
     * writes them so); an optional one may be skipped, a required one may not. Without declared properties, any
     * keys, each value following {@code additional} ({@code additional == null}: only {@code {}}).
     */
    final class ObjectRule implements ValueRule {
        final String[] names;
        final ValueRule[] values;
        final boolean[] required;
        final ValueRule additional;
        /** keyChoices[next]: the encoded keys allowed when properties 0..next-1 were passed (tags: property index). */
        final LiteralRule[] keyChoices;
        /** closable[next]: whether no required property is left at index next or later. */
        private final boolean[] closable;

        ObjectRule(List<String> names, List<ValueRule> values, List<Boolean> required, ValueRule additional) {
            int n = names.size();
            this.names = names.toArray(String[]::new);
            this.values = values.toArray(ValueRule[]::new);
            this.required = new boolean[n];
            for (int i = 0; i < n; i++) this.required[i] = required.get(i);
            this.additional = n == 0 ? additional : null;
            this.keyChoices = new LiteralRule[n + 1];
            this.closable = new boolean[n + 1];
            closable[n] = true;
            for (int i = n - 1; i >= 0; i--) closable[i] = closable[i + 1] && !this.required[i];
            for (int next = 0; next <= n; next++) {
                List<byte[]> keys = new ArrayList<>();
                List<Integer> tags = new ArrayList<>();
                for (int i = next; i < n; i++) {
                    keys.add(JsonText.quote(this.names[i]));
                    tags.add(i);
                    if (this.required[i]) break; // a required property cannot be skipped
                }
                keyChoices[next] = new LiteralRule(keys, tags);
            }
        }

        boolean freeKeys() {
            return names.length == 0 && additional != null;
        }

        boolean canClose(int next) {
            return names.length == 0 || closable[next];
        }

        boolean hasMoreKeys(int next) {
            return freeKeys() || next < names.length;
        }

        ValueRule valueRule(int property) {
            return property < 0 ? additional : values[property];
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }

    /** An array of values following {@code items}, with minItems/maxItems. */
    final class ArrayRule implements ValueRule {
        final ValueRule items;
        final int minItems;
        final int maxItems;
        /** Counts are kept only up to here: beyond it no decision changes (so equal states compare equal). */
        final int countCap;

        ArrayRule(ValueRule items, int minItems, int maxItems) {
            this.items = items;
            this.minItems = minItems;
            this.maxItems = maxItems;
            this.countCap = maxItems != UNLIMITED ? maxItems : minItems;
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }

    /** A string of minLength..maxLength characters (Unicode code points, as JSON Schema counts). */
    final class StringRule implements ValueRule {
        final int minLength;
        final int maxLength;
        final int countCap;

        StringRule(int minLength, int maxLength) {
            this.minLength = minLength;
            this.maxLength = maxLength;
            this.countCap = maxLength != UNLIMITED ? maxLength : minLength;
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }

    /** A number; {@code integer}: digits only (no fraction, no exponent). */
    final class NumberRule implements ValueRule {
        final boolean integer;

        NumberRule(boolean integer) {
            this.integer = integer;
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }

    /**
     * An integer in {@code [min, max]} (either bound may be null: unbounded on that side), written in the canonical
     * form (no leading zeros, no {@code -0}, no fraction or exponent, at most {@link Frame#MAX_INTEGER_DIGITS} digits):
     * JSON Schema {@code minimum}/{@code maximum}/{@code exclusiveMinimum}/{@code exclusiveMaximum} and the
     * OpenAPI formats {@code int32}/{@code int64} (the ranges of Java's int and long).
     */
    final class IntegerRangeRule implements ValueRule {
        private static final BigInteger LARGEST = BigInteger.TEN.pow(Frame.MAX_INTEGER_DIGITS).subtract(BigInteger.ONE);
        final BigInteger min;
        final BigInteger max;

        IntegerRangeRule(BigInteger min, BigInteger max) {
            this.min = min;
            this.max = max;
        }

        boolean contains(BigInteger v) {
            return (min == null || v.compareTo(min) >= 0) && (max == null || v.compareTo(max) <= 0);
        }

        /**
         * Whether some integer written as the given sign and digits followed by {@code from} or more further digits
         * (up to the digit limit) lies in the range: the values with {@code j} more digits form one interval,
         * {@code [m * 10^j, (m + 1) * 10^j - 1]} in magnitude.
         */
        boolean reachable(boolean negative, BigInteger magnitude, int digits, int from) {
            for (int j = from; digits + j <= Frame.MAX_INTEGER_DIGITS; j++) {
                BigInteger scale = BigInteger.TEN.pow(j);
                BigInteger lo = magnitude.multiply(scale);
                BigInteger hi = j == 0 ? lo : magnitude.add(BigInteger.ONE).multiply(scale).subtract(BigInteger.ONE);
                BigInteger a = negative ? hi.negate() : lo, b = negative ? lo.negate() : hi;
                if ((max == null || a.compareTo(max) <= 0) && (min == null || b.compareTo(min) >= 0)) return true;
            }
            return false;
        }

        /** Whether a negative value (at least one digit after the minus sign) can be written. */
        boolean allowsNegative() {
            // the negative values that can be written are [-LARGEST, -1]
            return (min == null || min.signum() < 0) && (max == null || max.compareTo(LARGEST.negate()) >= 0);
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }

    /**
     * One of a fixed set of JSON texts, byte for byte (enum, const, true/false/null, and the allowed keys of an
     * object). Sorted so that the candidates sharing a prefix form one range.
     */
    final class LiteralRule implements ValueRule {
        final byte[][] texts;
        final int[] tags;

        LiteralRule(List<byte[]> texts, List<Integer> tags) {
            Integer[] order = new Integer[texts.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, Comparator.comparing(texts::get, Arrays::compareUnsigned));
            this.texts = new byte[order.length][];
            this.tags = new int[order.length];
            for (int i = 0; i < order.length; i++) {
                this.texts[i] = texts.get(order[i]);
                this.tags[i] = tags.get(order[i]);
            }
        }

        static LiteralRule of(String... jsonTexts) {
            List<byte[]> t = new ArrayList<>();
            List<Integer> tags = new ArrayList<>();
            for (String s : jsonTexts) {
                t.add(s.getBytes(StandardCharsets.UTF_8));
                tags.add(tags.size());
            }
            return new LiteralRule(t, tags);
        }

        @Override
        public List<ValueRule> alternatives() {
            return List.of(this);
        }
    }
}
