package ai.autoglm.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Source preparation of a chat template before Jinjava parses it, so that Jinjava renders what jinja2 renders.
 * Every step keeps the template's meaning; none is specific to a model.
 *
 * <p><b>1. Whitespace, done here exactly as jinja2's lexer does</b> ({@code jinja2/lexer.py},
 * {@code Lexer.tokeniter}) for {@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}:
 * line breaks {@code \r\n} and {@code \r} become {@code \n}; one trailing newline of the template is dropped;
 * {@code {%-}/{@code {{-}/{@code {#-} strip all whitespace before the tag and {@code -%}}/{@code -}}}/{@code -#}}
 * all whitespace after it; otherwise a {@code {%}/{@code {#} tag that has only spaces/tabs before it on its line
 * takes those away (lstrip_blocks, not after {@code {%+}), and a newline right after {@code %}}/{@code #}} is
 * removed (trim_blocks, not with {@code +%}}). The markers are then removed and comments dropped, and Jinjava
 * runs with its own trim/lstrip off: Jinjava 2.7's lstrip_blocks strips blanks before any tag, also mid-line,
 * and its trimming of {@code {{- -}}} and comments differs, so doing it here is what makes output byte-identical.
 *
 * <p><b>2. Expressions</b> ({@code {{ }}} and {@code {% %}} contents; string literals untouched):
 * <ul>
 *   <li>Slices: Jinjava's parser accepts {@code x[a:b]} only with both bounds and no step, yet templates use
 *       {@code messages[::-1]} (Qwen2.5/Qwen3) and {@code messages[1:]}. A subscript with a top-level {@code :}
 *       becomes {@code py_slice(base, start, stop, step)} (Python slice semantics; a missing part is none).</li>
 *   <li>Keyword arguments: Jinjava parses {@code name=value} at the precedence of {@code +}, so
 *       {@code namespace(i=messages|length - 1)} would mean {@code (i=messages|length) - 1}. A keyword argument
 *       whose value has more than one token gets parentheses: {@code i=(messages|length - 1)}.</li>
 *   <li>{@code not}: in jinja2 it binds looser than comparisons ({@code not a == b} is {@code not (a == b)});
 *       in Jinjava it binds like unary minus. Its operand, up to the next {@code and}/{@code or}/{@code if}/
 *       {@code else}/comma/closing bracket, gets parentheses.</li>
 * </ul>
 */
final class TemplateRewriter {

    static final String SLICE_FUNCTION = "py_slice";

    private static final Set<String> KEYWORDS = Set.of("in", "not", "and", "or", "is", "if", "else", "for",
        "set", "elif", "return", "print", "recursive");

    private static final Pattern ENDRAW = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%}");

    private TemplateRewriter() {}

    /** A piece of the template: text, or a tag/expression/comment with its whitespace-control markers. */
    private static final class Piece {
        final char kind;      // 't' text, '{' expression, '%' block tag, '#' comment, 'r' raw block
        String text;          // text: the data; tag: the inner source without markers; raw: the raw content
        char left, right;     // '-', '+' or 0

        Piece(char kind, String text, char left, char right) {
            this.kind = kind;
            this.text = text;
            this.left = left;
            this.right = right;
        }
    }

    static String rewrite(String template) {
        String src = template.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) src = src.substring(0, src.length() - 1); // keep_trailing_newline=False
        List<Piece> pieces = lex(src);
        applyWhitespaceControl(pieces);
        StringBuilder out = new StringBuilder(src.length() + 64);
        for (Piece p : pieces) {
            switch (p.kind) {
                case 't' -> out.append(p.text);
                case '#' -> { } // comments render nothing
                case 'r' -> out.append("{% raw %}").append(p.text).append("{% endraw %}");
                case '{' -> out.append("{{").append(rewriteExpression(p.text)).append("}}");
                default -> out.append("{%").append(rewriteExpression(p.text)).append("%}");
            }
        }
        return out.toString();
    }

    /** Splits the source into alternating text and tag pieces (a text piece, possibly empty, between any two tags). */
    private static List<Piece> lex(String s) {
        List<Piece> pieces = new ArrayList<>();
        int i = 0, n = s.length();
        StringBuilder text = new StringBuilder();
        while (i < n) {
            int open = nextTagStart(s, i);
            if (open < 0) {
                text.append(s, i, n);
                break;
            }
            text.append(s, i, open);
            pieces.add(new Piece('t', text.toString(), (char) 0, (char) 0));
            text.setLength(0);
            char kind = s.charAt(open + 1);
            int innerStart = open + 2;
            char left = 0;
            if (innerStart < n && (s.charAt(innerStart) == '-' || s.charAt(innerStart) == '+')) {
                left = s.charAt(innerStart);
                innerStart++;
            }
            int end; // index of the closing "}}", "%}" or "#}"
            if (kind == '#') {
                end = s.indexOf("#}", innerStart);
                if (end < 0) throw new ChatTemplateException("chat template error: unclosed comment '{#'", false);
            } else {
                end = regionEnd(s, innerStart, kind == '{' ? '}' : '%');
                if (end < 0) {
                    throw new ChatTemplateException("chat template error: unclosed '" + s.substring(open, open + 2)
                        + "' at offset " + open, false);
                }
            }
            int innerEnd = end;
            char right = 0;
            if (innerEnd > innerStart && (s.charAt(innerEnd - 1) == '-' || s.charAt(innerEnd - 1) == '+')) {
                right = s.charAt(innerEnd - 1);
                innerEnd--;
            }
            String inner = s.substring(innerStart, innerEnd);
            i = end + 2;
            if (kind == '%' && inner.strip().equals("raw")) {
                Matcher m = ENDRAW.matcher(s);
                if (!m.find(i)) throw new ChatTemplateException("chat template error: missing {% endraw %}", false);
                Piece raw = new Piece('r', s.substring(i, m.start()), left, m.group(2).isEmpty() ? 0 : m.group(2).charAt(0));
                // raw content is data: the begin tag's '-' strips its start, endraw's '-' its end
                if (right == '-') raw.text = stripLeading(raw.text);
                if (!m.group(1).isEmpty() && m.group(1).charAt(0) == '-') raw.text = stripTrailing(raw.text);
                pieces.add(raw);
                i = m.end();
            } else {
                pieces.add(new Piece(kind, inner, left, right));
            }
        }
        pieces.add(new Piece('t', text.toString(), (char) 0, (char) 0));
        return pieces;
    }

    private static int nextTagStart(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /**
     * Index of the closing {@code }}} or {@code %}} of a tag whose contents start at {@code from}: the first one
     * outside string literals and with brackets balanced, as jinja2's lexer finds it (its balancing_stack).
     */
    private static int regionEnd(String s, int from, char closer) {
        int depth = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == closer && depth == 0 && i + 1 < s.length() && s.charAt(i + 1) == '}') return i;
            if (c == '\'' || c == '"') i = stringEnd(s, i) - 1;
            else if (c == '(' || c == '[' || c == '{') depth++;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
        }
        return -1;
    }

    /** jinja2's lexer rules for whitespace around tags (see the class comment), applied to the text pieces. */
    private static void applyWhitespaceControl(List<Piece> pieces) {
        boolean lineStarting = true; // whether the text after the previous tag starts at the beginning of a line
        for (int k = 1; k < pieces.size(); k += 2) {
            Piece tag = pieces.get(k);
            Piece before = pieces.get(k - 1);
            Piece after = pieces.get(k + 1);
            boolean blockLike = tag.kind != '{';
            if (tag.left == '-') {
                before.text = stripTrailing(before.text);
            } else if (tag.left != '+' && blockLike) {
                int lineStart = before.text.lastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < before.text.length()
                    && before.text.substring(lineStart).codePoints().allMatch(PythonValues::isSpace)) {
                    before.text = before.text.substring(0, lineStart);
                }
            }
            if (tag.right == '-') {
                String stripped = stripLeading(after.text);
                String consumed = after.text.substring(0, after.text.length() - stripped.length());
                lineStarting = consumed.endsWith("\n");
                after.text = stripped;
            } else if (tag.right != '+' && blockLike && after.text.startsWith("\n")) {
                after.text = after.text.substring(1); // trim_blocks
                lineStarting = true;
            } else {
                lineStarting = false;
            }
        }
    }

    private static String stripTrailing(String s) {
        int end = s.length();
        while (end > 0 && PythonValues.isSpace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
        return s.substring(0, end);
    }

    private static String stripLeading(String s) {
        int b = 0;
        while (b < s.length() && PythonValues.isSpace(s.codePointAt(b))) b += Character.charCount(s.codePointAt(b));
        return s.substring(b);
    }

    /** Index just after the string literal starting at {@code start} (backslash escapes honoured). */
    private static int stringEnd(String s, int start) {
        char q = s.charAt(start);
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\') i += 2;
            else if (c == q) return i + 1;
            else i++;
        }
        return s.length();
    }

    // ---- expression rewrites over tokens ----

    private enum Kind { NAME, STRING, NUMBER, SPACE, PUNCT }

    private record Token(Kind kind, String text) {}

    static String rewriteExpression(String expr) {
        List<Token> tokens = tokenize(expr);
        boolean changed = false;
        while (rewriteFirstSlice(tokens)) changed = true;
        changed |= parenthesizeKeywordArguments(tokens);
        changed |= parenthesizeNotOperands(tokens);
        if (!changed) return expr;
        StringBuilder sb = new StringBuilder();
        for (Token t : tokens) sb.append(t.text());
        return sb.toString();
    }

    private static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            int j;
            Kind kind;
            if (c == '\'' || c == '"') {
                j = stringEnd(s, i);
                kind = Kind.STRING;
            } else if (Character.isWhitespace(c)) {
                j = i;
                while (j < s.length() && Character.isWhitespace(s.charAt(j))) j++;
                kind = Kind.SPACE;
            } else if (Character.isLetter(c) || c == '_') {
                j = i;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                kind = Kind.NAME;
            } else if (Character.isDigit(c)) {
                j = i;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) j++;
                kind = Kind.NUMBER;
            } else {
                // two-character operators that contain '=' must stay whole for the keyword-argument rule
                j = i + 1;
                if (j < s.length() && s.charAt(j) == '=' && "=!<>".indexOf(c) >= 0) j++;
                kind = Kind.PUNCT;
            }
            out.add(new Token(kind, s.substring(i, j)));
            i = j;
        }
        return out;
    }

    private static boolean isPunct(Token t, String p) {
        return t.kind() == Kind.PUNCT && t.text().equals(p);
    }

    private static boolean isName(Token t, String name) {
        return t.kind() == Kind.NAME && t.text().equals(name);
    }

    private static boolean opens(Token t) {
        return t.kind() == Kind.PUNCT && (t.text().equals("(") || t.text().equals("[") || t.text().equals("{"));
    }

    private static boolean closes(Token t) {
        return t.kind() == Kind.PUNCT && (t.text().equals(")") || t.text().equals("]") || t.text().equals("}"));
    }

    /** Rewrites the first (leftmost) slice subscript; returns false when there is none. */
    private static boolean rewriteFirstSlice(List<Token> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            if (!isPunct(tokens.get(i), "[")) continue;
            int prev = previousSignificant(tokens, i);
            if (prev < 0 || !endsOperand(tokens.get(prev))) continue; // a list literal, not a subscript
            int close = matching(tokens, i);
            if (close < 0) return false;
            List<Integer> colons = new ArrayList<>();
            int depth = 0;
            for (int k = i + 1; k < close; k++) {
                Token t = tokens.get(k);
                if (opens(t)) depth++;
                else if (closes(t)) depth--;
                else if (depth == 0 && isPunct(t, ":")) colons.add(k);
            }
            if (colons.isEmpty() || colons.size() > 2) continue;
            int baseStart = postfixChainStart(tokens, prev);
            String base = join(tokens, baseStart, prev + 1);
            String start = part(tokens, i + 1, colons.get(0));
            String stop = part(tokens, colons.get(0) + 1, colons.size() == 2 ? colons.get(1) : close);
            String step = colons.size() == 2 ? part(tokens, colons.get(1) + 1, close) : "none";
            String call = SLICE_FUNCTION + "(" + base + ", " + start + ", " + stop + ", " + step + ")";
            List<Token> replaced = new ArrayList<>(tokens.subList(0, baseStart));
            replaced.add(new Token(Kind.NAME, call));
            replaced.addAll(tokens.subList(close + 1, tokens.size()));
            tokens.clear();
            tokens.addAll(replaced);
            return true;
        }
        return false;
    }

    /** {@code f(name=a - 1)} → {@code f(name=(a - 1))} inside any parenthesised argument list. */
    private static boolean parenthesizeKeywordArguments(List<Token> tokens) {
        boolean changed = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (!isPunct(tokens.get(i), "=")) continue;
            int name = previousSignificant(tokens, i);
            if (name < 0 || tokens.get(name).kind() != Kind.NAME) continue;
            int before = previousSignificant(tokens, name);
            if (before < 0 || !(isPunct(tokens.get(before), "(") || isPunct(tokens.get(before), ","))) continue;
            int valueStart = i + 1;
            int valueEnd = operandEnd(tokens, valueStart, false);
            if (significantCount(tokens, valueStart, valueEnd) <= 1) continue;
            tokens.add(valueEnd, new Token(Kind.PUNCT, ")"));
            tokens.add(valueStart, new Token(Kind.PUNCT, "("));
            changed = true;
        }
        return changed;
    }

    /** {@code not a == b} → {@code not (a == b)}; not for the {@code not in} and {@code is not} operators. */
    private static boolean parenthesizeNotOperands(List<Token> tokens) {
        boolean changed = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (!isName(tokens.get(i), "not")) continue;
            int next = nextSignificant(tokens, i);
            if (next < 0 || isName(tokens.get(next), "in")) continue;
            int prev = previousSignificant(tokens, i);
            if (prev >= 0 && isName(tokens.get(prev), "is")) continue;
            if (prev >= 0 && endsOperand(tokens.get(prev))) continue; // `a not in b` handled above; be safe
            int end = operandEnd(tokens, next, true);
            if (significantCount(tokens, next, end) <= 1) continue;
            if (isPunct(tokens.get(next), "(") && matching(tokens, next) == lastSignificantBefore(tokens, end)) continue;
            tokens.add(end, new Token(Kind.PUNCT, ")"));
            tokens.add(next, new Token(Kind.PUNCT, "("));
            changed = true;
        }
        return changed;
    }

    /**
     * End (exclusive) of the expression starting at {@code from}: the first top-level comma or unmatched closing
     * bracket, or (for a {@code not} operand) the first top-level {@code and}/{@code or}/{@code if}/{@code else}.
     */
    private static int operandEnd(List<Token> tokens, int from, boolean stopAtBooleanOps) {
        int depth = 0;
        for (int k = from; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (opens(t)) depth++;
            else if (closes(t)) {
                if (depth == 0) return trimSpaceEnd(tokens, from, k);
                depth--;
            } else if (depth == 0 && (isPunct(t, ",") || isPunct(t, ":"))) {
                return trimSpaceEnd(tokens, from, k);
            } else if (depth == 0 && stopAtBooleanOps && (isName(t, "and") || isName(t, "or") || isName(t, "if")
                || isName(t, "else"))) {
                return trimSpaceEnd(tokens, from, k);
            }
        }
        return trimSpaceEnd(tokens, from, tokens.size());
    }

    private static int trimSpaceEnd(List<Token> tokens, int from, int end) {
        while (end > from && tokens.get(end - 1).kind() == Kind.SPACE) end--;
        return end;
    }

    private static int significantCount(List<Token> tokens, int from, int to) {
        int c = 0;
        for (int k = from; k < to; k++) if (tokens.get(k).kind() != Kind.SPACE) c++;
        return c;
    }

    private static int lastSignificantBefore(List<Token> tokens, int end) {
        for (int k = end - 1; k >= 0; k--) if (tokens.get(k).kind() != Kind.SPACE) return k;
        return -1;
    }

    private static boolean endsOperand(Token t) {
        return (t.kind() == Kind.NAME && !KEYWORDS.contains(t.text())) || t.kind() == Kind.STRING
            || t.kind() == Kind.NUMBER || isPunct(t, ")") || isPunct(t, "]");
    }

    private static int previousSignificant(List<Token> tokens, int i) {
        for (int k = i - 1; k >= 0; k--) if (tokens.get(k).kind() != Kind.SPACE) return k;
        return -1;
    }

    private static int nextSignificant(List<Token> tokens, int i) {
        for (int k = i + 1; k < tokens.size(); k++) if (tokens.get(k).kind() != Kind.SPACE) return k;
        return -1;
    }

    private static int matching(List<Token> tokens, int open) {
        int depth = 0;
        for (int k = open; k < tokens.size(); k++) {
            if (opens(tokens.get(k))) depth++;
            else if (closes(tokens.get(k)) && --depth == 0) return k;
        }
        return -1;
    }

    private static int matchingBackward(List<Token> tokens, int close) {
        int depth = 0;
        for (int k = close; k >= 0; k--) {
            if (closes(tokens.get(k))) depth++;
            else if (opens(tokens.get(k)) && --depth == 0) return k;
        }
        return -1;
    }

    /** First token of the postfix chain (name, literal or group, then .attr, (args), [index]) ending at {@code last}. */
    private static int postfixChainStart(List<Token> tokens, int last) {
        int k = last;
        while (true) {
            Token t = tokens.get(k);
            int start = closes(t) ? matchingBackward(tokens, k) : k;
            if (start < 0) return k;
            if (start >= 2 && isPunct(tokens.get(start - 1), ".")) { // attribute access continues the chain
                k = start - 2;
                continue;
            }
            if (opens(tokens.get(start)) && start > 0 && endsOperand(tokens.get(start - 1))) { // call or subscript
                k = start - 1;
                continue;
            }
            return start;
        }
    }

    private static String join(List<Token> tokens, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int k = from; k < to; k++) sb.append(tokens.get(k).text());
        return sb.toString();
    }

    private static String part(List<Token> tokens, int from, int to) {
        String s = join(tokens, from, to).strip();
        return s.isEmpty() ? "none" : s;
    }
}
