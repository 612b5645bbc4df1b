package ai.autoglm.server.gateway;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text the PII detectors match on, with a map back to the original characters, so that look-alike writings of
 * personal data are caught and the redaction still replaces exactly the original characters.
 *
 * <p>Per code point: default-ignorable characters (format characters such as U+200B ZERO WIDTH SPACE, U+200D, U+2060,
 * U+FEFF, U+00AD soft hyphen; variation selectors; U+034F) are dropped; the rest goes through Unicode NFKC (full-width
 * {@code １３８} and {@code ＠}, NBSP and the other compatibility spaces, circled and styled letters become their plain
 * forms); every other decimal digit (Arabic-Indic {@code ١٣٨}, Devanagari, ...) becomes its ASCII digit
 * ({@link Character#digit}); and the letters of {@link #CONFUSABLES} become the Latin letter they imitate. Then runs of
 * spaces and tabs become one space, and {@code (at)} / {@code [at]} and {@code (dot)} / {@code [dot]} (any case,
 * with the spaces around them) become {@code @} and {@code .}.
 *
 * <p>Streaming: a tail of the text whose normal form could still change when more text comes (trailing spaces, an
 * unfinished {@code (at)}, a lone high surrogate) is left out of the normal form (see {@link Normalized#stableEnd});
 * the scanner holds it back like an unsettled match.
 *
 * <p>Not done: full Unicode confusable skeletons (UTS #39): they map digits and Latin letters to each other ({@code 0}
 * to {@code O}, {@code m} to {@code rn}), which would break the number patterns; ICU4J's SpoofChecker works on
 * skeletons only. The table below is the Cyrillic and Greek letters that look exactly like Latin ones.
 */
final class PiiNormalizer {
    /**
     * Cyrillic and Greek letters whose glyphs are the same as a Latin letter's (their prototypes in Unicode's
     * confusables.txt, UTS #39, restricted to single Latin letters).
     */
    static final Map<Character, Character> CONFUSABLES = confusables(
            // Cyrillic small: а е о р с у х ѕ і ј ԁ һ ԛ ԝ ү ӏ
            "\u0430a\u0435e\u043Eo\u0440p\u0441c\u0443y\u0445x\u0455s\u0456i\u0458j\u0501d\u04BBh\u051Bq\u051Dw\u04AFy\u04CFl"
                    // Cyrillic capital: А В Е К М Н О Р С Т Х У Ѕ І Ј Ԛ Ԝ Ү
                    + "\u0410A\u0412B\u0415E\u041AK\u041CM\u041DH\u041EO\u0420P\u0421C\u0422T\u0425X\u0423Y\u0405S\u0406I\u0408J\u051AQ\u051CW\u04AEY"
                    // Greek: Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ ο ν α ι ρ
                    + "\u0391A\u0392B\u0395E\u0396Z\u0397H\u0399I\u039AK\u039CM\u039DN\u039FO\u03A1P\u03A4T\u03A5Y\u03A7X"
                    + "\u03BFo\u03BDv\u03B1a\u03B9i\u03C1p"
                    // Latin dotless i
                    + "\u0131i");

    /** What becomes one character: a run of spaces/tabs (of two or more), or a spelled-out at/dot in brackets. */
    private static final Pattern JOIN = Pattern.compile("[ \\t]*[(\\[][ \\t]*(at|dot)[ \\t]*[)\\]][ \\t]*|[ \\t]{2,}",
            Pattern.CASE_INSENSITIVE);

    /**
     * The normal form of a prefix of a text.
     *
     * @param text      the normalised text
     * @param start     for each character of {@code text}, the index of the first original character it comes from
     * @param end       ... and the index after the last one
     * @param stableEnd the original characters {@code [0, stableEnd)} are what {@code text} covers; the rest could still
     *                  normalise differently when more text comes (equal to the original's length when it has ended)
     */
    record Normalized(String text, int[] start, int[] end, int stableEnd) {
        /** The first index of {@code text} whose character comes from original index {@code orig} or later. */
        int indexAtOrAfter(int orig) {
            int lo = 0, hi = text.length();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (start[mid] < orig) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    private PiiNormalizer() {
    }

    /** The normal form of a whole text. */
    static String normalize(String s) {
        return of(s, true).text();
    }

    /** @param ended whether {@code s} is the whole text (else a tail that more text could change is left out) */
    static Normalized of(CharSequence s, boolean ended) {
        int limit = s.length();
        if (!ended && limit > 0 && Character.isHighSurrogate(s.charAt(limit - 1))) limit--;
        // Pass 1: code point by code point.
        StringBuilder n1 = new StringBuilder(limit);
        int[] st1 = new int[limit + 8], en1 = new int[limit + 8];
        for (int i = 0; i < limit; ) {
            int cp = Character.codePointAt(s, i);
            int next = Math.min(limit, i + Character.charCount(cp));
            // ASCII, CJK unified ideographs and Hangul syllables are their own NFKC form and fold to themselves: no
            // Normalizer call for the bulk of English and Chinese text.
            if (cp < 0x80 || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3)) {
                st1 = grow(st1, n1.length());
                en1 = grow(en1, n1.length());
                st1[n1.length()] = i;
                en1[n1.length()] = next;
                n1.append((char) cp); // all BMP
            } else if (!ignorable(cp)) {
                String t = Normalizer.normalize(Character.toString(cp), Normalizer.Form.NFKC);
                for (int k = 0; k < t.length(); ) {
                    int c = t.codePointAt(k);
                    k += Character.charCount(c);
                    String folded = fold(c);
                    for (int j = 0; j < folded.length(); j++) {
                        st1 = grow(st1, n1.length());
                        en1 = grow(en1, n1.length());
                        st1[n1.length()] = i;
                        en1[n1.length()] = next;
                        n1.append(folded.charAt(j));
                    }
                }
            }
            i = next;
        }
        // Pass 2: runs of spaces, spelled-out @ and dot.
        StringBuilder n2 = new StringBuilder(n1.length());
        int[] st2 = new int[n1.length()], en2 = new int[n1.length()];
        Matcher m = JOIN.matcher(n1);
        int stableEnd = limit;
        for (int p = 0; p < n1.length(); ) {
            char c = n1.charAt(p);
            if (c == ' ' || c == '\t' || c == '(' || c == '[') {
                m.region(p, n1.length());
                boolean matched = m.lookingAt();
                if (!ended && m.hitEnd()) {
                    stableEnd = st1[p];
                    break;
                }
                if (matched) {
                    String g = m.group(1);
                    char out = g == null ? ' ' : g.length() == 2 ? '@' : '.';
                    st2[n2.length()] = st1[p];
                    en2[n2.length()] = en1[m.end() - 1];
                    n2.append(out);
                    p = m.end();
                    continue;
                }
            }
            st2[n2.length()] = st1[p];
            en2[n2.length()] = en1[p];
            n2.append(c);
            p++;
        }
        int n = n2.length();
        return new Normalized(n2.toString(), Arrays.copyOf(st2, n), Arrays.copyOf(en2, n), stableEnd);
    }

    /** Default-ignorable code points that change nothing visible (UAX #44 Default_Ignorable_Code_Point, the common part). */
    private static boolean ignorable(int cp) {
        return Character.getType(cp) == Character.FORMAT
                || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF) // variation selectors
                || cp == 0x034F // combining grapheme joiner
                || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0; // Hangul fillers
    }

    /** One NFKC code point: other scripts' digits to ASCII, spaces to U+0020, look-alike letters to Latin. */
    private static String fold(int c) {
        if (c < 0x80) return Character.toString(c);
        if (Character.getType(c) == Character.DECIMAL_DIGIT_NUMBER) {
            int d = Character.digit(c, 10);
            if (d >= 0) return Character.toString('0' + d);
        }
        if (Character.getType(c) == Character.SPACE_SEPARATOR) return " ";
        if (c <= 0xFFFF) {
            Character latin = CONFUSABLES.get((char) c);
            if (latin != null) return latin.toString();
        }
        return Character.toString(c);
    }

    private static int[] grow(int[] a, int index) {
        return index < a.length ? a : Arrays.copyOf(a, a.length * 2 + 8);
    }

    private static Map<Character, Character> confusables(String pairs) {
        Map<Character, Character> m = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length(); i += 2) m.put(pairs.charAt(i), pairs.charAt(i + 1));
        return Map.copyOf(m);
    }
}
