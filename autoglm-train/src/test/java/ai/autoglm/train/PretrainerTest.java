package ai.autoglm.train;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.RopeStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PretrainerTest {
    @TempDir
    Path dir;

    /** Sentences from a small grammar: a word, then words that may follow it. Characters are the tokens. */
    static String structuredText(int sentences, long seed) {
        String[] subjects = {"the cat", "a dog", "my friend", "the old man", "her sister"};
        String[] verbs = {"sees", "likes", "follows", "paints", "finds"};
        String[] objects = {"the river", "a red ball", "the garden", "some bread", "the moon"};
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            sb.append(subjects[r.nextInt(subjects.length)]).append(' ').append(verbs[r.nextInt(verbs.length)]).append(' ')
                    .append(objects[r.nextInt(objects.length)]).append(". ");
        }
        return sb.toString();
    }

    static int[] charTokens(String text, Map<Character, Integer> ids) {
        int[] out = new int[text.length()];
        for (int i = 0; i < out.length; i++) out[i] = ids.computeIfAbsent(text.charAt(i), c -> ids.size());
        return out;
    }

    /** Unigram entropy in nats, computed from the counts (not from anything the trainer produces). */
    static double unigramEntropy(int[] tokens) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int t : tokens) counts.merge(t, 1, Integer::sum);
        double h = 0;
        for (int c : counts.values()) {
            double p = (double) c / tokens.length;
            h -= p * Math.log(p);
        }
        return h;
    }

    private static ModelConfig tinyLlama(int vocab) {
        return new ModelConfig(Architecture.LLAMA, 32, 2, 4, 2, 8, 64, vocab, 64, 1e-5f, 10000.0, RopeStyle.NEOX, 8, null, false, false);
    }

    @Test
    void trainingLowersHeldOutLossFarBelowTheUnigramEntropy() {
        Map<Character, Integer> ids = new HashMap<>();
        int[] tokens = charTokens(structuredText(1500, 1), ids);
        TokenDataset data = TokenDataset.split(tokens, 0.1);
        double entropy = unigramEntropy(data.heldOut());
        ModelConfig config = tinyLlama(ids.size());
        Pretrainer run = Pretrainer.start(new TrainableTransformer(config), data, TrainingOptions.defaults(300, 8, 32, 1e-2, 5));
        double before = run.heldOutLoss(16);
        while (!run.done()) run.trainStep();
        double after = run.heldOutLoss(16);
        // A model that ignored context could not beat the unigram entropy; this grammar's per-character
        // entropy is far lower (words are fixed strings, only word choices are random).
        assertThat(before).isGreaterThan(entropy);
        assertThat(after).as("held-out loss %s vs unigram entropy %s", after, entropy).isLessThan(0.5 * entropy);
    }

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne() {
        Map<Character, Integer> ids = new HashMap<>();
        int[] tokens = charTokens(structuredText(200, 2), ids);
        TokenDataset data = TokenDataset.split(tokens, 0.1);
        ModelConfig config = tinyLlama(ids.size());
        TrainingOptions options = TrainingOptions.defaults(8, 4, 16, 3e-3, 9);

        Pretrainer straight = Pretrainer.start(new TrainableTransformer(config), data, options);
        for (int i = 0; i < 8; i++) straight.trainStep();

        Pretrainer first = Pretrainer.start(new TrainableTransformer(config), data, options);
        for (int i = 0; i < 4; i++) first.trainStep();
        Path ckpt = dir.resolve("run.ckpt");
        TrainingCheckpoint.save(first, ckpt);
        Pretrainer resumed = TrainingCheckpoint.resume(ckpt, data);
        assertThat(resumed.step()).isEqualTo(4);
        for (int i = 0; i < 4; i++) resumed.trainStep();

        assertThat(resumed.step()).isEqualTo(straight.step());
        for (Parameter p : straight.model().parameters().all()) {
            Parameter q = resumed.model().parameters().get(p.name());
            assertThat(bits(q.value())).as(p.name()).containsExactly(bits(p.value()));
            assertThat(bits(resumed.optimizer().firstMoment(p.name()))).containsExactly(bits(straight.optimizer().firstMoment(p.name())));
            assertThat(bits(resumed.optimizer().secondMoment(p.name()))).containsExactly(bits(straight.optimizer().secondMoment(p.name())));
        }
        // The check can fail: one more step on one side changes the weights.
        resumed.trainStep();
        Parameter e = resumed.model().parameters().get("token_embd.weight");
        assertThat(bits(e.value())).isNotEqualTo(bits(straight.model().parameters().get("token_embd.weight").value()));
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("run.ckpt"); // no temp files left
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }
}
