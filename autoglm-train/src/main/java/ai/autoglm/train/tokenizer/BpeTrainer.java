package ai.autoglm.train.tokenizer;

import ai.autoglm.core.tokenizer.ByteLevel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with
 * Subword Units", algorithm 1; byte-level as GPT-2, Radford et al. 2019, section 2.2): text is split into words by
 * the pre-tokenizer regex, each word starts as its UTF-8 bytes (ids 0..255 = byte values), and the most frequent
 * adjacent pair over all words (weighted by word count) is merged into a new token until the vocabulary is full or
 * no pair occurs twice. Ties go to the smaller pair of ids, as in HF tokenizers' {@code BpeTrainer} ({@code Merge}
 * ordering), so training is deterministic.
 *
 * <p>Pair counts are updated incrementally: a merge only rescans the words that contain the merged pair, and the
 * queue of candidate pairs uses lazy deletion (a popped entry whose count is stale is pushed back with the current
 * count), so training a few thousand merges on megabytes of text takes seconds.
 */
public final class BpeTrainer {
    /**
     * GLM-4's pre-tokenizer split (THUDM glm-4-9b-chat tokenization_chatglm.py {@code pat_str}; identical to
     * Llama 3's): this is the pattern written into tokenizer.json, in the Rust/onig dialect.
     */
    public static final String SPLIT_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /**
     * The same pattern for java.util.regex, whose {@code \s} is ASCII-only: Unicode White_Space instead, as onig and
     * the loader (core's TextRules.compile) read it.
     */
    static final Pattern JAVA_SPLIT = Pattern.compile(SPLIT_REGEX.replace("\\s", "\\p{IsWhite_Space}").replace("\\S", "\\P{IsWhite_Space}"));

    /** The result: token strings in the GPT-2 byte alphabet (index = id; the first 256 are the bytes) and the merges in rank order. */
    public record Vocabulary(List<String> tokens, List<String[]> merges) {
    }

    private final Map<String, Long> wordCounts = new HashMap<>();

    /** Adds text to the training corpus (split into words and counted; the text itself is not kept). */
    public BpeTrainer add(String text) {
        Matcher m = JAVA_SPLIT.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) wordCounts.merge(text.substring(last, m.start()), 1L, Long::sum); // Split "Isolated": gaps are words too
            wordCounts.merge(m.group(), 1L, Long::sum);
            last = m.end();
        }
        if (last < text.length()) wordCounts.merge(text.substring(last), 1L, Long::sum);
        return this;
    }

    private record Candidate(long count, int a, int b) {
    }

    /**
     * Learns up to {@code merges} merges (fewer when no pair occurs at least {@code minFrequency} times).
     */
    public Vocabulary train(int merges, int minFrequency) {
        if (merges < 0) throw new IllegalArgumentException("merges must be non-negative");
        List<String> tokens = new ArrayList<>(256 + merges);
        for (int b = 0; b < 256; b++) tokens.add(ByteLevel.encode(new byte[]{(byte) b}));
        List<String[]> mergeList = new ArrayList<>(merges);

        // Words in a fixed order (sorted) so that nothing depends on hash iteration order.
        String[] words = wordCounts.keySet().toArray(String[]::new);
        Arrays.sort(words);
        int[][] symbols = new int[words.length][];
        long[] counts = new long[words.length];
        Map<Long, Long> pairCounts = new HashMap<>();
        Map<Long, IntList> where = new HashMap<>();
        for (int w = 0; w < words.length; w++) {
            byte[] bytes = words[w].getBytes(StandardCharsets.UTF_8);
            symbols[w] = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) symbols[w][i] = bytes[i] & 0xFF;
            counts[w] = wordCounts.get(words[w]);
            for (int i = 0; i + 1 < bytes.length; i++) {
                long key = key(symbols[w][i], symbols[w][i + 1]);
                pairCounts.merge(key, counts[w], Long::sum);
                where.computeIfAbsent(key, k -> new IntList()).add(w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>((x, y) -> x.count != y.count ? Long.compare(y.count, x.count)
                : x.a != y.a ? Integer.compare(x.a, y.a) : Integer.compare(x.b, y.b));
        pairCounts.forEach((k, c) -> queue.add(new Candidate(c, (int) (k >>> 32), (int) (long) k)));

        while (mergeList.size() < merges && !queue.isEmpty()) {
            Candidate top = queue.poll();
            long current = pairCounts.getOrDefault(key(top.a, top.b), 0L);
            if (current != top.count) {
                if (current > 0) queue.add(new Candidate(current, top.a, top.b)); // stale entry: requeue with the true count
                continue;
            }
            if (current < minFrequency) break;
            int merged = tokens.size();
            tokens.add(tokens.get(top.a) + tokens.get(top.b));
            mergeList.add(new String[]{tokens.get(top.a), tokens.get(top.b)});
            IntList affected = where.remove(key(top.a, top.b));
            for (int w : affected.sortedDistinct()) {
                int[] s = symbols[w];
                if (!contains(s, top.a, top.b)) continue;
                for (int i = 0; i + 1 < s.length; i++) pairCounts.merge(key(s[i], s[i + 1]), -counts[w], Long::sum);
                int[] out = new int[s.length];
                int n = 0;
                for (int i = 0; i < s.length; i++) {
                    if (i + 1 < s.length && s[i] == top.a && s[i + 1] == top.b) {
                        out[n++] = merged;
                        i++;
                    } else {
                        out[n++] = s[i];
                    }
                }
                s = symbols[w] = Arrays.copyOf(out, n);
                for (int i = 0; i + 1 < s.length; i++) {
                    long k = key(s[i], s[i + 1]);
                    long c = pairCounts.merge(k, counts[w], Long::sum);
                    if (s[i] == merged || s[i + 1] == merged) {
                        where.computeIfAbsent(k, x -> new IntList()).add(w);
                        queue.add(new Candidate(c, s[i], s[i + 1]));
                    }
                }
            }
            pairCounts.remove(key(top.a, top.b));
        }
        return new Vocabulary(List.copyOf(tokens), List.copyOf(mergeList));
    }

    private static boolean contains(int[] s, int a, int b) {
        for (int i = 0; i + 1 < s.length; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** A growable list of ints. */
    private static final class IntList {
        private int[] values = new int[4];
        private int size;

        void add(int v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        int[] sortedDistinct() {
            return Arrays.stream(values, 0, size).sorted().distinct().toArray();
        }
    }
}
