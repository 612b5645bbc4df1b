package ai.autoglm.train.tokenizer;

import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

public class BpeTrainerTest {
    @TempDir
    Path dir;

    public static String corpus(int lines, long seed) {
        String[] words = {"the", "moon", "river", "春眠不觉晓", "处处闻啼鸟", "walking", "talked", "don't", "it's", "2024", "12345",
                "hello", "world", "🙂", "naïve", "café", "  ", "\n", "\t", "tabs", "x=y+1;", "print(x)"};
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            int n = 3 + r.nextInt(8);
            for (int j = 0; j < n; j++) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(4) == 0 ? "" : " ");
            sb.append(r.nextBoolean() ? ".\n" : "!\n");
        }
        return sb.toString();
    }

    /**
     * The textbook algorithm, slowly: split with the same regex (written again here for java.util.regex), recount
     * every pair after every merge, take the most frequent (ties: smaller ids), merge everywhere.
     */
    static List<String> naiveMerges(String text, int merges) {
        Pattern p = Pattern.compile("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\p{IsWhite_Space}\\p{L}\\p{N}]+[\\r\\n]*"
                + "|\\p{IsWhite_Space}*[\\r\\n]+|\\p{IsWhite_Space}+(?!\\P{IsWhite_Space})|\\p{IsWhite_Space}+");
        Map<String, Integer> counts = new TreeMap<>();
        Matcher m = p.matcher(text);
        while (m.find()) counts.merge(m.group(), 1, Integer::sum); // this corpus has no unmatched gaps
        List<List<Integer>> words = new ArrayList<>();
        List<Integer> wc = new ArrayList<>();
        for (var e : counts.entrySet()) {
            List<Integer> s = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) s.add(b & 0xFF);
            words.add(s);
            wc.add(e.getValue());
        }
        List<byte[]> tokenBytes = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokenBytes.add(new byte[]{(byte) b});
        List<String> out = new ArrayList<>();
        for (int k = 0; k < merges; k++) {
            Map<Long, Long> pc = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pc.merge(((long) s.get(i) << 32) | s.get(i + 1), (long) wc.get(w), Long::sum);
            }
            long best = -1, bestCount = 1;
            for (var e : pc.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best >= 0 && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best < 0) break;
            int a = (int) (best >>> 32), b = (int) best, id = tokenBytes.size();
            byte[] joined = new byte[tokenBytes.get(a).length + tokenBytes.get(b).length];
            System.arraycopy(tokenBytes.get(a), 0, joined, 0, tokenBytes.get(a).length);
            System.arraycopy(tokenBytes.get(b), 0, joined, tokenBytes.get(a).length, tokenBytes.get(b).length);
            tokenBytes.add(joined);
            out.add(a + " " + b);
            for (List<Integer> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i) == a && s.get(i + 1) == b) {
                        s.set(i, id);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void mergesEqualTheTextbookAlgorithm() {
        String text = corpus(300, 1);
        BpeTrainer.Vocabulary v = new BpeTrainer().add(text).train(150, 2);
        List<String> expected = naiveMerges(text, 150);
        Map<String, Integer> id = new HashMap<>();
        for (int i = 0; i < v.tokens().size(); i++) id.put(v.tokens().get(i), i);
        List<String> actual = v.merges().stream().map(mm -> id.get(mm[0]) + " " + id.get(mm[1])).toList();
        assertThat(actual).hasSize(150).containsExactlyElementsOf(expected);
    }

    @Test
    void writtenTokenizerLoadsEncodesAndRoundTrips() {
        String text = corpus(400, 2);
        BpeTrainer.Vocabulary v = new BpeTrainer().add(text).train(300, 2);
        GlmTokenizerFiles.write(v, 128, dir);
        Tokenizer tok = Tokenizers.fromHfDirectory(dir);
        assertThat(tok.vocabSize()).isEqualTo(GlmTokenizerFiles.vocabSize(v));

        // Unseen text, including characters the corpus never had: byte-level BPE encodes anything.
        for (String s : List.of(corpus(20, 99), "Zürich ☃ 日本語 \u0000 \r\n  end", "", " leading and trailing ", "🙂🙂🙂 don't")) {
            int[] ids = tok.encode(s, false);
            assertThat(tok.decode(ids)).isEqualTo(s);
        }
        // Trained merges compress text like the corpus.
        String sample = corpus(50, 3);
        int[] ids = tok.encode(sample, false);
        assertThat(ids.length).isLessThan(sample.getBytes(StandardCharsets.UTF_8).length / 3);
        // Each pre-token word encodes as the trainer merged it: the most frequent word of the corpus is one token.
        assertThat(tok.encode(" the", false)).hasSize(1);

        // GLM chat-format specials are single ids when parsed, plain text otherwise.
        String chat = "[gMASK]<sop><|user|>\nhello<|assistant|>\nworld<|endoftext|>";
        int[] special = tok.encode(chat, true);
        assertThat(Arrays.stream(special).filter(tok::isSpecial).count()).isEqualTo(5);
        assertThat(tok.decode(special)).isEqualTo(chat);
        assertThat(tok.decode(special, true)).isEqualTo("\nhello\nworld");
        assertThat(Arrays.stream(tok.encode(chat, false)).noneMatch(tok::isSpecial)).isTrue();
        assertThat(tok.eosId()).isEqualTo(tok.tokenId("<|endoftext|>"));
    }
}
