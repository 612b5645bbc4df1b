package ai.autoglm.core.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Normalizers and pre-tokenizers (the text-to-words stages of HF tokenizers' pipeline). */
final class TextRules {
    private TextRules() {
    }

    /** Maps one plain-text section before pre-tokenization (HF "normalizer"). */
    @FunctionalInterface
    interface Normalizer {
        String apply(String text);
    }

    /** Splits a normalized section into the words BPE runs on (HF "pre_tokenizer"). */
    @FunctionalInterface
    interface PreTokenizer {
        /**
         * @param firstSection whether this section starts the input (HF Metaspace prepend_scheme "first")
         */
        void split(String text, boolean firstSection, List<String> out);
    }

    /** The whole section is one word (SentencePiece-style BPE: no pre-tokenizer). */
    static final PreTokenizer WHOLE = (text, first, out) -> out.add(text);

    /** GPT-2's split (openai/gpt-2 encoder.py; HF ByteLevel with use_regex=true; llama.cpp LLAMA_VOCAB_PRE_TYPE_GPT2). */
    static final String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's split (tokenizer.json of Meta-Llama-3; llama.cpp LLAMA_VOCAB_PRE_TYPE_LLAMA3). */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's split: Llama 3's with single digits (Qwen2 tokenizer.json; llama.cpp LLAMA_VOCAB_PRE_TYPE_QWEN2). */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * Compiles a tokenizer regex (written for Rust onig / fancy-regex, or for llama.cpp) with
     * java.util.regex. Everything used by these patterns means the same in Java except the shorthand
     * classes, which are ASCII-only in Java: {@code \s}/{@code \S} become the Unicode White_Space property
     * (as in onig and in llama.cpp's unicode_cpt_flags), {@code \d}/{@code \D} the Nd category. Inline
     * {@code (?i:...)} stays ASCII case-insensitive, which is what llama.cpp's rewritten patterns
     * ({@code '[sS]|'[tT]...}) and transformers.js do; onig would also fold U+017F and U+212A.
     */
    static Pattern compile(String regex) {
        return Pattern.compile(translate(regex));
    }

    /**
     * As {@link #compile}, for the Rust regex crate tiktoken uses (openai/tiktoken src/lib.rs, fancy-regex over
     * regex): there {@code (?i)} folds case by Unicode rules, so {@code (?i:'s)} also matches U+017F LONG S.
     */
    static Pattern compileTiktoken(String regex) {
        return Pattern.compile(translate(regex), Pattern.UNICODE_CASE);
    }

    private static String translate(String regex) {
        StringBuilder sb = new StringBuilder(regex.length() + 32);
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char d = regex.charAt(++i);
                switch (d) {
                    case 's' -> sb.append("\\p{IsWhite_Space}");
                    case 'S' -> sb.append("\\P{IsWhite_Space}");
                    case 'd' -> sb.append("\\p{Nd}");
                    case 'D' -> sb.append("\\P{Nd}");
                    default -> sb.append(c).append(d);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * HF Split pre-tokenizer with behavior "Isolated": every match is a word and so is every stretch
     * between matches. Several patterns apply one after the other to each piece, as llama.cpp's
     * unicode_regex_split does with its lists of expressions.
     */
    static PreTokenizer regexSplit(List<Pattern> patterns) {
        return (text, first, out) -> splitRec(text, patterns, 0, out);
    }

    private static void splitRec(String text, List<Pattern> patterns, int level, List<String> out) {
        if (level == patterns.size()) {
            out.add(text);
            return;
        }
        Matcher m = patterns.get(level).matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                splitRec(text.substring(last, m.start()), patterns, level + 1, out);
            }
            if (m.end() > m.start()) {
                splitRec(text.substring(m.start(), m.end()), patterns, level + 1, out);
            }
            last = m.end();
        }
        if (last < text.length()) {
            splitRec(text.substring(last), patterns, level + 1, out);
        }
    }

    /** Prepends a space when the section does not start with one (HF ByteLevel add_prefix_space). */
    static PreTokenizer prefixSpace(PreTokenizer inner) {
        return (text, first, out) -> inner.split(text.startsWith(" ") ? text : " " + text, first, out);
    }

    /**
     * HF Metaspace pre-tokenizer: spaces become {@code replacement}; a replacement is prepended per
     * {@code prependScheme} ("always", "first": only the section that starts the input, "never"); with
     * {@code split}, each word starts at a replacement character.
     */
    static PreTokenizer metaspace(char replacement, String prependScheme, boolean split) {
        return (text, first, out) -> {
            String s = text.replace(' ', replacement);
            boolean prepend = "always".equals(prependScheme) || ("first".equals(prependScheme) && first);
            if (prepend && !s.isEmpty() && s.charAt(0) != replacement) {
                s = replacement + s;
            }
            if (!split) {
                out.add(s);
                return;
            }
            int start = 0;
            for (int i = 1; i < s.length(); i++) {
                if (s.charAt(i) == replacement) {
                    out.add(s.substring(start, i));
                    start = i;
                }
            }
            if (start < s.length()) {
                out.add(s.substring(start));
            }
        };
    }

    /** Unicode White_Space (what HF tokenizers' Rust str::trim and onig's \s use). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    static String trimEnd(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isWhiteSpace(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    static String trimStart(String s) {
        int start = 0;
        while (start < s.length()) {
            int cp = s.codePointAt(start);
            if (!isWhiteSpace(cp)) {
                break;
            }
            start += Character.charCount(cp);
        }
        return s.substring(start);
    }
}
