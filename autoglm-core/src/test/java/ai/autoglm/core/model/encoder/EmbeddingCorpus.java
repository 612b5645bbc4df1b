package ai.autoglm.core.model.encoder;

import java.util.ArrayList;
import java.util.List;

/** Texts the embedding tests run: English, punctuation, accents, whitespace, special-token text, empty, long. */
final class EmbeddingCorpus {
    private EmbeddingCorpus() {
    }

    static final List<String> SHORT = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "What's the capital of France? Paris!",
            "query: how much protein should a female eat",
            "Résumé: naïve café, façade — déjà vu. ÀÉÎÕÜ",
            "Hello,world!!! (parentheses) [brackets] {braces} $100 + 5% = ~$105 ^_^ | a<b>c @user #tag",
            "  leading and trailing whitespace\t\nwith tabs and\u00a0no-break\u3000spaces  ",
            "Numbers 3.14159 and 2,718 and 1e-10; dates 2024-11-21.",
            "unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
            "x".repeat(120) + " is a word longer than max_input_chars_per_word",
            "[CLS] special [SEP] tokens written in the text [MASK] [PAD]",
            "I \u2764\ufe0f NY \ud83d\uddfd, emoji and \u0000control\u0007chars\u200bzero\u00adwidth",
            "今天天气很好，我们去公园散步吧。",
            "机器学习是人工智能的一个分支，深度学习（Deep Learning）是其中之一。",
            "");

    /** About 700 words: longer than 512 tokens, so it is truncated. */
    static final String LONG;

    static {
        String[] words = ("the history of computing is long and full of surprising turns from mechanical calculators "
                + "to electronic machines transistors integrated circuits and the networks that connect them today "
                + "engineers mathematicians and dreamers each added a piece").split(" ");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 700; i++) {
            sb.append(words[(i * 3 + i / words.length) % words.length]).append(i % 13 == 12 ? ". " : " ");
        }
        LONG = sb.toString();
    }

    static List<String> all() {
        List<String> all = new ArrayList<>(SHORT);
        all.add(LONG);
        return all;
    }
}
