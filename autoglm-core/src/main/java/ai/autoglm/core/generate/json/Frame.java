package ai.autoglm.core.generate.json;

import java.math.BigInteger;

/**
 * One level of the JSON automaton's stack: the value being read and where in it the reader stands. The grammar is
 * RFC 8259's, read byte by byte over UTF-8 (so a token that ends inside a multi-byte character is handled like any
 * other). Frames are immutable records: a byte gives new frames (see {@link Transitions}), equal positions give equal
 * frames.
 *
 * <p>Limits that keep a sampled model from looping forever without producing anything (documented in docs/serving.md, "Engine features behind the API"):
 * whitespace where RFC 8259 allows it is bounded as llama.cpp's JSON grammars bound it ({@code space ::= | " " |
 * "\n" [ \t]{0,20}}, common/json-schema-to-grammar.cpp), tighter still: nothing, one space, or one line break
 * ({@code \n} or {@code \r\n}) followed by an indentation of at most {@value #INDENT_PER_LEVEL} bytes per open
 * container and at most {@code maxWhitespace} in all (pretty printers indent 2 or 4 spaces or a tab per level). A
 * model greedily fond of spaces (issue 15: a forced tool call filled its context with them) is thus made to write
 * the value after a few bytes. Numbers have at
 * most {@value #MAX_INTEGER_DIGITS} integer digits, {@value #MAX_FRACTION_DIGITS} fraction digits and
 * {@value #MAX_EXPONENT_DIGITS} exponent digits. Strings must be valid UTF-8 (no overlong forms, no surrogates,
 * RFC 3629) and a {@code \\u} escape of a surrogate must be a high one followed by a low one (no lone
 * surrogates, which no UTF-8 output can carry).
 */
sealed interface Frame permits Frame.RootFrame, Frame.ObjectFrame, Frame.ArrayFrame, Frame.StringFrame,
        Frame.NumberFrame, Frame.IntegerRangeFrame, Frame.LiteralFrame {

    int MAX_INTEGER_DIGITS = 20;
    int MAX_FRACTION_DIGITS = 20;
    int MAX_EXPONENT_DIGITS = 2;
    /** Indentation bytes allowed after a line break, per open object or array. */
    int INDENT_PER_LEVEL = 4;

    /** Whitespace state of a gap: nothing yet. */
    int WS_NONE = 0;
    /** One space taken: nothing more. */
    int WS_SPACE = 1;
    /** A carriage return taken: a line feed must follow. */
    int WS_CR = 2;
    /** After a line break; {@code WS_LINE + k}: k indentation bytes taken. */
    int WS_LINE = 3;

    /**
     * The whitespace state after byte {@code b} (a whitespace byte) in a gap in state {@code ws} inside {@code depth}
     * open containers, or -1 when the gap cannot take it.
     */
    static int whitespace(int ws, int b, int depth, int maxWhitespace) {
        return switch (ws) {
            case WS_NONE -> b == ' ' ? WS_SPACE : b == '\n' ? WS_LINE : b == '\r' ? WS_CR : -1;
            case WS_CR -> b == '\n' ? WS_LINE : -1;
            case WS_SPACE -> -1;
            default -> (b == ' ' || b == '\t') && ws - WS_LINE < Math.min(maxWhitespace, INDENT_PER_LEVEL * depth) ? ws + 1 : -1;
        };
    }

    /** Open objects and arrays in {@code stack}. */
    static int depth(FrameStack stack) {
        int d = 0;
        for (FrameStack s = stack; s != null; s = s.rest) if (s.top instanceof ObjectFrame || s.top instanceof ArrayFrame) d++;
        return d;
    }

    /** Feeds byte {@code b} (0..255) to this frame, the top of {@code self}; adds the resulting stacks to out. */
    void step(int b, FrameStack self, Transitions out);

    /** Whether the value read so far is complete without a closing byte (a number, a literal). */
    default boolean canComplete() {
        return false;
    }

    /** Whether more bytes can extend this value. */
    default boolean canContinue() {
        return true;
    }

    /** For containers: this frame after its child value {@code child} is complete. */
    default Frame childDone(Frame child) {
        throw new IllegalStateException(getClass().getSimpleName() + " has no child values");
    }

    /** RFC 8259 {@code ws}: space, tab, line feed, carriage return. */
    static boolean isWhitespace(int b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /** The frame a value of concrete rule {@code rule} is in after its first byte {@code b}, or null. */
    static Frame start(ValueRule rule, int b) {
        return switch (rule) {
            case ValueRule.ObjectRule o -> b == '{' ? new ObjectFrame(o, ObjectFrame.OPEN, 0, -1, 0) : null;
            case ValueRule.ArrayRule a -> b == '[' ? new ArrayFrame(a, ArrayFrame.OPEN, 0, 0) : null;
            case ValueRule.StringRule s -> b == '"' ? new StringFrame(s, 0, StringFrame.NORMAL, 0, 0) : null;
            case ValueRule.NumberRule n -> b == '-' ? new NumberFrame(n, NumberFrame.MINUS, 0)
                    : b == '0' ? new NumberFrame(n, NumberFrame.ZERO, 1)
                    : b >= '1' && b <= '9' ? new NumberFrame(n, NumberFrame.INTEGER, 1) : null;
            case ValueRule.IntegerRangeRule r -> IntegerRangeFrame.start(r, b);
            case ValueRule.LiteralRule l -> LiteralFrame.narrow(l, 0, 0, l.texts.length, b);
            case ValueRule.AnyOf a -> throw new IllegalStateException("anyOf is flattened before values start");
            case ValueRule.Ref r -> throw new IllegalStateException("$ref is resolved before values start");
        };
    }

    /** The bottom of the stack: optional leading whitespace, the one top-level value, then nothing more. */
    record RootFrame(ValueRule rule, int phase, int ws) implements Frame {
        static final int START = 0, WAITING = 1, DONE = 2;

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            if (phase != START) return; // after the value nothing may follow, not even whitespace
            if (isWhitespace(b)) {
                int next = whitespace(ws, b, 0, out.maxWhitespace);
                if (next >= 0) out.replaceTop(self, new RootFrame(rule, START, next));
                return;
            }
            if (ws == WS_CR) return;
            out.begin(rule, b, self.withTop(new RootFrame(rule, WAITING, 0)));
        }

        @Override
        public Frame childDone(Frame child) {
            return new RootFrame(rule, DONE, 0);
        }

        boolean done() {
            return phase == DONE;
        }
    }

    /**
     * An object after its '{'. {@code next}: index of the first declared property not yet passed; {@code current}:
     * the property whose key was read (-1 for a free key).
     */
    record ObjectFrame(ValueRule.ObjectRule rule, int phase, int next, int current, int ws) implements Frame {
        static final int OPEN = 0, KEY = 1, COLON = 2, VALUE = 3, AFTER_VALUE = 4, IN_KEY = 5, IN_VALUE = 6;

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            if (isWhitespace(b)) {
                int w = phase <= AFTER_VALUE ? whitespace(ws, b, depth(self), out.maxWhitespace) : -1;
                if (w >= 0) out.replaceTop(self, new ObjectFrame(rule, phase, next, current, w));
                return;
            }
            if (ws == WS_CR) return;
            switch (phase) {
                case OPEN -> {
                    if (b == '}' && rule.canClose(next)) out.close(self);
                    else if (b == '"') beginKey(b, self, out);
                }
                case KEY -> {
                    if (b == '"') beginKey(b, self, out);
                }
                case COLON -> {
                    if (b == ':') out.replaceTop(self, new ObjectFrame(rule, VALUE, next, current, 0));
                }
                case VALUE -> out.begin(rule.valueRule(current), b,
                        self.withTop(new ObjectFrame(rule, IN_VALUE, next, current, 0)));
                case AFTER_VALUE -> {
                    if (b == ',' && rule.hasMoreKeys(next)) out.replaceTop(self, new ObjectFrame(rule, KEY, next, -1, 0));
                    else if (b == '}' && rule.canClose(next)) out.close(self);
                }
                default -> { } // IN_KEY / IN_VALUE: a child frame is on top, never this one
            }
        }

        private void beginKey(int b, FrameStack self, Transitions out) {
            FrameStack container = self.withTop(new ObjectFrame(rule, IN_KEY, next, -1, 0));
            out.begin(rule.freeKeys() ? AnyJson.STRING : rule.keyChoices[next], b, container);
        }

        @Override
        public Frame childDone(Frame child) {
            if (phase == IN_KEY) {
                int property = child instanceof LiteralFrame key ? key.tag() : -1;
                return new ObjectFrame(rule, COLON, next, property, 0);
            }
            return new ObjectFrame(rule, AFTER_VALUE, current >= 0 ? current + 1 : next, -1, 0);
        }
    }

    /** An array after its '['; {@code count}: items so far, kept up to the rule's countCap. */
    record ArrayFrame(ValueRule.ArrayRule rule, int phase, int count, int ws) implements Frame {
        static final int OPEN = 0, NEXT = 1, AFTER_VALUE = 2, IN_ITEM = 3;

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            if (isWhitespace(b)) {
                int w = phase <= AFTER_VALUE ? whitespace(ws, b, depth(self), out.maxWhitespace) : -1;
                if (w >= 0) out.replaceTop(self, new ArrayFrame(rule, phase, count, w));
                return;
            }
            if (ws == WS_CR) return;
            switch (phase) {
                case OPEN -> {
                    if (b == ']') {
                        if (rule.minItems == 0) out.close(self);
                    } else if (rule.maxItems > 0) {
                        beginItem(b, self, out);
                    }
                }
                case NEXT -> beginItem(b, self, out);
                case AFTER_VALUE -> {
                    if (b == ',' && count < rule.maxItems) out.replaceTop(self, new ArrayFrame(rule, NEXT, count, 0));
                    else if (b == ']' && count >= rule.minItems) out.close(self);
                }
                default -> { }
            }
        }

        private void beginItem(int b, FrameStack self, Transitions out) {
            out.begin(rule.items, b, self.withTop(new ArrayFrame(rule, IN_ITEM, count, 0)));
        }

        @Override
        public Frame childDone(Frame child) {
            return new ArrayFrame(rule, AFTER_VALUE, Math.min(count + 1, rule.countCap), 0);
        }
    }

    /**
     * A string after its opening quote. {@code count}: characters so far (code points; an escape is one, a
     * surrogate-pair escape one), kept up to the rule's countCap. {@code need}/{@code acc} depend on the mode:
     * UTF8 — continuation bytes still needed and (lo << 8 | hi) the range of the next one; HEX modes — hex digits
     * still needed and the value so far.
     */
    record StringFrame(ValueRule.StringRule rule, int count, int mode, int need, int acc) implements Frame {
        static final int NORMAL = 0, ESCAPE = 1, HEX = 2, UTF8 = 3, LOW_BACKSLASH = 4, LOW_U = 5, LOW_HEX = 6;

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            switch (mode) {
                case NORMAL -> normal(b, self, out);
                case UTF8 -> {
                    if (b >= (acc >>> 8) && b <= (acc & 0xff)) {
                        out.replaceTop(self, need == 1 ? new StringFrame(rule, count, NORMAL, 0, 0)
                                : new StringFrame(rule, count, UTF8, need - 1, 0x80BF));
                    }
                }
                case ESCAPE -> {
                    if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                        out.replaceTop(self, new StringFrame(rule, count, NORMAL, 0, 0));
                    } else if (b == 'u') {
                        out.replaceTop(self, new StringFrame(rule, count, HEX, 4, 0));
                    }
                }
                case HEX, LOW_HEX -> hexDigit(b, self, out);
                case LOW_BACKSLASH -> {
                    if (b == '\\') out.replaceTop(self, new StringFrame(rule, count, LOW_U, 0, 0));
                }
                case LOW_U -> {
                    if (b == 'u') out.replaceTop(self, new StringFrame(rule, count, LOW_HEX, 4, 0));
                }
                default -> throw new IllegalStateException("string mode " + mode);
            }
        }

        /** Whether byte {@code b} is a plain character that leaves this frame unchanged (no length is counted). */
        boolean keepsStateOn(int b) {
            return mode == NORMAL && rule.countCap == 0 && b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
        }

        private void normal(int b, FrameStack self, Transitions out) {
            if (b == '"') {
                if (count >= rule.minLength) out.close(self);
                return;
            }
            if (b < 0x20) return; // control characters must be escaped (RFC 8259 section 7)
            if (count >= rule.maxLength) return; // no room for another character
            int counted = Math.min(count + 1, rule.countCap);
            if (b == '\\') {
                out.replaceTop(self, new StringFrame(rule, counted, ESCAPE, 0, 0));
            } else if (b < 0x80) {
                // a plain character: an unlimited string stays in the very same state (cheap trie walks, cache hits)
                out.add(counted == count ? self : self.withTop(new StringFrame(rule, counted, NORMAL, 0, 0)));
            } else {
                // UTF-8 lead bytes and the range of the byte after them (Unicode 15, table 3-7)
                int need, range;
                if (b >= 0xC2 && b <= 0xDF) { need = 1; range = 0x80BF; }
                else if (b == 0xE0) { need = 2; range = 0xA0BF; }
                else if (b == 0xED) { need = 2; range = 0x809F; } // no UTF-16 surrogates
                else if (b >= 0xE1 && b <= 0xEF) { need = 2; range = 0x80BF; }
                else if (b == 0xF0) { need = 3; range = 0x90BF; }
                else if (b >= 0xF1 && b <= 0xF3) { need = 3; range = 0x80BF; }
                else if (b == 0xF4) { need = 3; range = 0x808F; } // nothing above U+10FFFF
                else return; // a continuation byte without a lead, C0/C1 (overlong) or F5..FF
                out.replaceTop(self, new StringFrame(rule, counted, UTF8, need, range));
            }
        }

        private void hexDigit(int b, FrameStack self, Transitions out) {
            int d = Character.digit(b, 16);
            if (d < 0 || b > 'f') return;
            int position = 4 - need; // 0-based digit index
            if (mode == LOW_HEX) {
                // the escape after a high surrogate must be a low surrogate, \uDC00..\uDFFF
                if (position == 0 && d != 0xD) return;
                if (position == 1 && d < 0xC) return;
            } else if (position == 1 && acc == 0xD && d >= 0xC) {
                return; // a lone low surrogate
            }
            int value = acc * 16 + d;
            if (need > 1) {
                out.replaceTop(self, new StringFrame(rule, count, mode, need - 1, value));
            } else if (mode == HEX && value >= 0xD800 && value <= 0xDBFF) {
                out.replaceTop(self, new StringFrame(rule, count, LOW_BACKSLASH, 0, 0));
            } else {
                out.replaceTop(self, new StringFrame(rule, count, NORMAL, 0, 0));
            }
        }
    }

    /** A number (RFC 8259 section 6), in one of its phases; {@code digits} counts the digits of the current part. */
    record NumberFrame(ValueRule.NumberRule rule, int phase, int digits) implements Frame {
        static final int MINUS = 0, ZERO = 1, INTEGER = 2, DOT = 3, FRACTION = 4, EXP = 5, EXP_SIGN = 6, EXP_DIGITS = 7;

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            boolean digit = b >= '0' && b <= '9';
            int nextPhase = -1, nextDigits = 1;
            switch (phase) {
                case MINUS -> {
                    if (b == '0') nextPhase = ZERO;
                    else if (digit) nextPhase = INTEGER;
                }
                case ZERO, INTEGER -> {
                    if (digit && phase == INTEGER && digits < MAX_INTEGER_DIGITS) {
                        nextPhase = INTEGER;
                        nextDigits = digits + 1;
                    } else if (!rule.integer && b == '.') {
                        nextPhase = DOT;
                        nextDigits = 0;
                    } else if (!rule.integer && (b == 'e' || b == 'E')) {
                        nextPhase = EXP;
                        nextDigits = 0;
                    }
                }
                case DOT -> {
                    if (digit) nextPhase = FRACTION;
                }
                case FRACTION -> {
                    if (digit && digits < MAX_FRACTION_DIGITS) {
                        nextPhase = FRACTION;
                        nextDigits = digits + 1;
                    } else if (b == 'e' || b == 'E') {
                        nextPhase = EXP;
                        nextDigits = 0;
                    }
                }
                case EXP -> {
                    if (b == '+' || b == '-') {
                        nextPhase = EXP_SIGN;
                        nextDigits = 0;
                    } else if (digit) {
                        nextPhase = EXP_DIGITS;
                    }
                }
                case EXP_SIGN -> {
                    if (digit) nextPhase = EXP_DIGITS;
                }
                case EXP_DIGITS -> {
                    if (digit && digits < MAX_EXPONENT_DIGITS) {
                        nextPhase = EXP_DIGITS;
                        nextDigits = digits + 1;
                    }
                }
                default -> throw new IllegalStateException("number phase " + phase);
            }
            if (nextPhase >= 0) out.replaceTop(self, new NumberFrame(rule, nextPhase, nextDigits));
        }

        @Override
        public boolean canComplete() {
            return phase == ZERO || phase == INTEGER || phase == FRACTION || phase == EXP_DIGITS;
        }

        @Override
        public boolean canContinue() {
            return switch (phase) {
                case ZERO -> !rule.integer;
                case INTEGER -> digits < MAX_INTEGER_DIGITS || !rule.integer;
                case EXP_DIGITS -> digits < MAX_EXPONENT_DIGITS;
                default -> true;
            };
        }
    }

    /**
     * An integer of a {@link ValueRule.IntegerRangeRule}: the sign and the digits so far ({@code digits == 0}: only
     * the minus sign). A digit is taken only when some value of the range still starts with the digits then, so a
     * live frame can always be completed inside the range.
     */
    record IntegerRangeFrame(ValueRule.IntegerRangeRule rule, boolean negative, BigInteger magnitude, int digits) implements Frame {

        static IntegerRangeFrame start(ValueRule.IntegerRangeRule rule, int b) {
            if (b == '-') return rule.allowsNegative() ? new IntegerRangeFrame(rule, true, BigInteger.ZERO, 0) : null;
            return new IntegerRangeFrame(rule, false, BigInteger.ZERO, 0).digit(b);
        }

        /** This frame after digit byte {@code b}, or null (not a digit, a leading zero or -0, or out of the range). */
        private IntegerRangeFrame digit(int b) {
            if (b < '0' || b > '9' || digits >= MAX_INTEGER_DIGITS) return null;
            if (digits > 0 && magnitude.signum() == 0) return null; // nothing follows a leading 0
            if (b == '0' && digits == 0 && negative) return null; // -0: write 0
            BigInteger m = magnitude.multiply(BigInteger.TEN).add(BigInteger.valueOf(b - '0'));
            boolean zero = m.signum() == 0;
            if (zero ? !rule.contains(m) : !rule.reachable(negative, m, digits + 1, 0)) return null;
            return new IntegerRangeFrame(rule, negative, m, digits + 1);
        }

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            IntegerRangeFrame next = digit(b);
            if (next != null) out.replaceTop(self, next);
        }

        @Override
        public boolean canComplete() {
            return digits > 0 && rule.contains(negative ? magnitude.negate() : magnitude);
        }

        @Override
        public boolean canContinue() {
            return digits == 0 || (magnitude.signum() != 0 && rule.reachable(negative, magnitude, digits, 1));
        }
    }

    /** A literal after {@code pos} bytes; texts[lo..hi) of the rule are those still matching. */
    record LiteralFrame(ValueRule.LiteralRule rule, int pos, int lo, int hi) implements Frame {

        /** The frame after byte {@code b} at position {@code pos} among texts[lo..hi), or null when none matches. */
        static LiteralFrame narrow(ValueRule.LiteralRule rule, int pos, int lo, int hi, int b) {
            byte[][] texts = rule.texts;
            int from = lo;
            while (from < hi && !(texts[from].length > pos && (texts[from][pos] & 0xff) == b)) from++;
            if (from == hi) return null;
            int to = from + 1;
            while (to < hi && texts[to].length > pos && (texts[to][pos] & 0xff) == b) to++;
            return new LiteralFrame(rule, pos + 1, from, to);
        }

        @Override
        public void step(int b, FrameStack self, Transitions out) {
            LiteralFrame next = narrow(rule, pos, lo, hi, b);
            if (next != null) out.replaceTop(self, next);
        }

        @Override
        public boolean canComplete() {
            return rule.texts[lo].length == pos;
        }

        @Override
        public boolean canContinue() {
            return hi - lo > 1 || rule.texts[lo].length > pos;
        }

        /** The tag of the text matched exactly (valid when {@link #canComplete()}). */
        int tag() {
            return rule.tags[lo];
        }
    }
}
