package ai.autoglm.core.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits text into plain-text sections and added tokens: scanning left to right, at each position the
 * longest added token that starts there wins (transformers.js DictionarySplitter; HF tokenizers uses a
 * leftmost-longest Aho-Corasick, which gives the same sections for real vocabularies).
 */
final class AddedTokenSplitter {
    /** A section of the input: [start, end) of plain text, or an added token when {@code token != null}. */
    record Section(int start, int end, AddedToken token) {
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean empty;

    AddedTokenSplitter(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            if (t.content().isEmpty()) {
                continue;
            }
            Node node = root;
            for (int i = 0; i < t.content().length(); i++) {
                node = node.children.computeIfAbsent(t.content().charAt(i), c -> new Node());
            }
            node.token = t;
        }
        empty = root.children.isEmpty();
    }

    /** HF tokenizers added_vocabulary.rs single_word: no word character (alphanumeric or '_') on either side. */
    private static boolean standsAlone(String text, int start, int end) {
        return (start == 0 || !isWordChar(text.codePointBefore(start)))
                && (end == text.length() || !isWordChar(text.codePointAt(end)));
    }

    /** Rust char::is_alphanumeric (Alphabetic or a numeric category) or '_'. */
    private static boolean isWordChar(int cp) {
        int type = Character.getType(cp);
        return Character.isAlphabetic(cp) || type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER || cp == '_';
    }

    List<Section> split(String text, boolean parseSpecial) {
        List<Section> out = new ArrayList<>();
        int n = text.length();
        if (empty) {
            if (n > 0) {
                out.add(new Section(0, n, null));
            }
            return out;
        }
        int start = 0;
        int i = 0;
        while (i < n) {
            Node node = root;
            AddedToken match = null;
            for (int j = i; j < n; j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) {
                    break;
                }
                if (node.token != null && (parseSpecial || !node.token.special())
                        && (!node.token.singleWord() || standsAlone(text, i, j + 1))) {
                    match = node.token;
                }
            }
            if (match != null) {
                if (i > start) {
                    out.add(new Section(start, i, null));
                }
                out.add(new Section(i, i + match.content().length(), match));
                i += match.content().length();
                start = i;
            } else {
                i++;
            }
        }
        if (start < n) {
            out.add(new Section(start, n, null));
        }
        return out;
    }
}
