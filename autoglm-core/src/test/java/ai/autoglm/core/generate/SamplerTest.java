package ai.autoglm.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    // ---------- independent reference: the chain written out plainly, in double precision ----------

    static double[] penalized(float[] logits, int[] history, SamplerSettings s) {
        double[] l = new double[logits.length];
        for (int i = 0; i < l.length; i++) l[i] = logits[i];
        if (s.penaltyLastN() == 0) return l;
        int from = s.penaltyLastN() < 0 ? 0 : Math.max(0, history.length - s.penaltyLastN());
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = from; i < history.length; i++) counts.merge(history[i], 1, Integer::sum);
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            int t = e.getKey();
            int c = e.getValue();
            double v = l[t] > 0 ? l[t] / s.repetitionPenalty() : l[t] * s.repetitionPenalty();
            l[t] = v - c * s.frequencyPenalty() - (c > 0 ? s.presencePenalty() : 0);
        }
        return l;
    }

    static double[] softmax(List<Integer> ids, double[] l, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int id : ids) max = Math.max(max, l[id]);
        double[] p = new double[ids.size()];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp((l[ids.get(i)] - max) / temperature);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** The probability of every token under penalties → top-k → top-p → min-p → temperature. */
    static double[] reference(float[] logits, int[] history, SamplerSettings s) {
        double[] l = penalized(logits, history, s);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < l.length; i++) ids.add(i);
        ids.sort(Comparator.comparingDouble((Integer i) -> -l[i]).thenComparingInt(i -> i));
        double[] out = new double[l.length];
        if (s.temperature() == 0) {
            out[ids.get(0)] = 1;
            return out;
        }
        if (s.topK() > 0) ids = new ArrayList<>(ids.subList(0, Math.min(s.topK(), ids.size())));
        if (s.topP() < 1) {
            double[] p = softmax(ids, l, 1);
            double cum = 0;
            int keep = ids.size();
            for (int i = 0; i < p.length; i++) {
                cum += p[i];
                if (cum >= s.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            ids = new ArrayList<>(ids.subList(0, keep));
        }
        if (s.minP() > 0) {
            double[] p = softmax(ids, l, 1);
            List<Integer> kept = new ArrayList<>();
            for (int i = 0; i < p.length; i++) if (p[i] >= s.minP() * p[0] || i == 0) kept.add(ids.get(i));
            ids = kept;
        }
        double[] p = softmax(ids, l, s.temperature());
        for (int i = 0; i < p.length; i++) out[ids.get(i)] = p[i];
        return out;
    }

    static float[] randomLogits(Random r, int n, double scale) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) (r.nextGaussian() * scale);
        return l;
    }

    static int[] randomHistory(Random r, int length, int vocab) {
        int[] h = new int[length];
        for (int i = 0; i < length; i++) h[i] = r.nextInt(Math.min(vocab, 12)); // small range: many repeats
        return h;
    }

    static SamplerSettings settings(float t, int k, float p, float minP, float rep, int lastN, float pres, float freq) {
        return new SamplerSettings(t, k, p, minP, rep, lastN, pres, freq, 1234L);
    }

    static final List<SamplerSettings> CONFIGS = List.of(
        settings(1f, 0, 1f, 0f, 1f, 64, 0f, 0f),          // plain softmax
        settings(0.7f, 0, 1f, 0f, 1f, 64, 0f, 0f),        // temperature only
        settings(1f, 5, 1f, 0f, 1f, 64, 0f, 0f),          // top-k only
        settings(1f, 0, 0.8f, 0f, 1f, 64, 0f, 0f),        // top-p only
        settings(1f, 0, 1f, 0.1f, 1f, 64, 0f, 0f),        // min-p only
        settings(1.3f, 0, 0.5f, 0.02f, 1f, 64, 0f, 0f),   // top-p + min-p, sorted prefix path
        settings(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f), // llama.cpp defaults
        settings(0.6f, 8, 0.9f, 0.2f, 1.3f, 16, 0.4f, 0.25f),
        settings(1f, 0, 1f, 0f, 1.5f, -1, 0f, 0f),        // repetition penalty on the whole history
        settings(1f, 0, 1f, 0f, 1f, 10, 1.5f, -0.7f),     // presence / frequency, negative frequency
        settings(0.9f, 3, 0.6f, 0.3f, 0.8f, 5, -1f, 2f));

    @Test
    void distributionMatchesTheReferenceChain() {
        Random r = new Random(7);
        for (SamplerSettings s : CONFIGS) {
            for (int trial = 0; trial < 20; trial++) {
                int vocab = 40 + r.nextInt(60);
                float[] logits = randomLogits(r, vocab, 2.5);
                int[] history = randomHistory(r, 30, vocab);
                double[] expected = reference(logits, history, s);
                float[] actual = new float[vocab];
                new Sampler(s, vocab).distribution(logits, history, history.length, actual);
                for (int i = 0; i < vocab; i++) {
                    assertThat(actual[i] > 0).as("%s: token %d kept", s, i).isEqualTo(expected[i] > 0);
                    assertThat((double) actual[i]).as("%s: p(%d)", s, i).isCloseTo(expected[i], within(2e-6));
                }
            }
        }
    }

    @Test
    void sampledFrequenciesFollowTheDistribution() {
        Random r = new Random(11);
        for (SamplerSettings s : List.of(CONFIGS.get(0), CONFIGS.get(5), CONFIGS.get(7))) {
            int vocab = 30;
            float[] logits = randomLogits(r, vocab, 1.2);
            int[] history = randomHistory(r, 20, vocab);
            double[] expected = reference(logits, history, s);
            Sampler sampler = new Sampler(s, vocab);
            int draws = 60_000;
            int[] counts = new int[vocab];
            for (int i = 0; i < draws; i++) counts[sampler.sample(logits, history, history.length)]++;
            double chi2 = 0;
            int bins = 0;
            for (int i = 0; i < vocab; i++) {
                if (expected[i] == 0) {
                    assertThat(counts[i]).as("filtered token %d was drawn", i).isZero();
                    continue;
                }
                double e = expected[i] * draws;
                chi2 += (counts[i] - e) * (counts[i] - e) / e;
                bins++;
            }
            int df = Math.max(1, bins - 1);
            // mean df, sd sqrt(2 df): 6 sd above the mean is far beyond chance for a fixed seed
            assertThat(chi2).as("chi-square over %d bins for %s", bins, s).isLessThan(df + 6 * Math.sqrt(2.0 * df) + 5);
        }
    }

    @Test
    void greedyIsArgmaxOfThePenalisedLogits() {
        Random r = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int vocab = 500;
            float[] logits = randomLogits(r, vocab, 3);
            if (trial % 10 == 0) logits[17] = logits[400] = 100f; // a tie: the lower id wins
            int[] history = trial % 2 == 0 ? new int[0] : randomHistory(r, 20, vocab);
            SamplerSettings s = trial % 2 == 0 ? SamplerSettings.greedy()
                : SamplerSettings.greedy().withPenalties(1.8f, 64, 0.5f, 0.3f);
            double[] l = penalized(logits, history, s);
            int argmax = 0;
            for (int i = 1; i < vocab; i++) if (l[i] > l[argmax]) argmax = i;
            assertThat(new Sampler(s, vocab).sample(logits, history, history.length)).isEqualTo(argmax);
        }
    }

    /** A deterministic stand-in for a model: logits that depend on the previous token. */
    static float[] fakeModel(int previous, int vocab) {
        float[] l = new float[vocab];
        Random r = new Random(previous * 31L + 5);
        for (int i = 0; i < vocab; i++) l[i] = (float) r.nextGaussian();
        return l;
    }

    static int[] generate(Sampler sampler, int steps, int vocab) {
        int[] history = new int[steps + 1];
        history[0] = 1;
        for (int i = 1; i <= steps; i++) history[i] = sampler.sample(fakeModel(history[i - 1], vocab), history, i);
        return history;
    }

    @Test
    void sameSeedSameSequence() {
        int vocab = 200;
        SamplerSettings s = SamplerSettings.defaults().withTemperature(1.2f).withSeed(42L);
        int[] a = generate(new Sampler(s, vocab), 300, vocab);
        int[] b = generate(new Sampler(s, vocab), 300, vocab);
        int[] c = generate(new Sampler(s.withSeed(43L), vocab), 300, vocab);
        assertThat(b).isEqualTo(a);
        assertThat(c).isNotEqualTo(a);
        Sampler random = new Sampler(s.withSeed(null), vocab);
        int[] d = generate(random, 300, vocab);
        assertThat(generate(new Sampler(s.withSeed(random.seed()), vocab), 300, vocab)).isEqualTo(d);
    }

    @Test
    void penaltyFormulasByHand() {
        // vocab 4, history [0, 0, 1, 3], last 3 tokens penalised: tokens 0, 1, 3 once each
        float[] logits = {2f, -1f, 0.5f, 3f};
        int[] history = {0, 0, 1, 3};
        SamplerSettings s = new SamplerSettings(1f, 0, 1f, 0f, 1.5f, 3, 0.3f, 0.2f, 1L);
        double[] penalised = {2 / 1.5 - 0.5, -1 * 1.5 - 0.5, 0.5, 3 / 1.5 - 0.5};
        assertDistribution(s, logits, history, penalised);
        // whole history: token 0 twice
        SamplerSettings all = s.withPenalties(1.5f, -1, 0.3f, 0.2f);
        assertDistribution(all, logits, history, new double[] {2 / 1.5 - 0.4 - 0.3, -1 * 1.5 - 0.5, 0.5, 3 / 1.5 - 0.5});
        // window 0 disables the penalties
        assertDistribution(s.withPenalties(1.5f, 0, 0.3f, 0.2f), logits, history, new double[] {2, -1, 0.5, 3});
    }

    static void assertDistribution(SamplerSettings s, float[] logits, int[] history, double[] penalised) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : penalised) max = Math.max(max, v);
        for (double v : penalised) sum += Math.exp(v - max);
        float[] p = new float[logits.length];
        new Sampler(s, logits.length).distribution(logits, history, history.length, p);
        for (int i = 0; i < p.length; i++) {
            assertThat((double) p[i]).as("p(%d)", i).isCloseTo(Math.exp(penalised[i] - max) / sum, within(1e-6));
        }
    }

    static Set<Integer> kept(SamplerSettings s, float[] logits) {
        float[] p = new float[logits.length];
        new Sampler(s, logits.length).distribution(logits, new int[0], 0, p);
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < p.length; i++) if (p[i] > 0) ids.add(i);
        return ids;
    }

    @Test
    void filtersKeepExactlyTheRightTokens() {
        // probabilities 0.05, 0.5, 0.1, 0.2, 0.15 (ids shuffled against the order of likelihood)
        double[] probs = {0.05, 0.5, 0.1, 0.2, 0.15};
        float[] logits = new float[probs.length];
        for (int i = 0; i < probs.length; i++) logits[i] = (float) Math.log(probs[i]);
        SamplerSettings base = new SamplerSettings(1f, 0, 1f, 0f, 1f, 0, 0f, 0f, 1L);
        assertThat(kept(base, logits)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        assertThat(kept(base.withTopK(2), logits)).containsExactlyInAnyOrder(1, 3);
        assertThat(kept(base.withTopK(1), logits)).containsExactlyInAnyOrder(1);
        assertThat(kept(base.withTopP(0.45f), logits)).containsExactlyInAnyOrder(1);
        assertThat(kept(base.withTopP(0.69f), logits)).containsExactlyInAnyOrder(1, 3);
        assertThat(kept(base.withTopP(0.71f), logits)).containsExactlyInAnyOrder(1, 3, 4);
        assertThat(kept(base.withMinP(0.25f), logits)).containsExactlyInAnyOrder(1, 3, 4);  // p >= 0.125
        assertThat(kept(base.withMinP(0.41f), logits)).containsExactlyInAnyOrder(1);        // p >= 0.205
        assertThat(kept(base.withMinP(0.15f), logits)).containsExactlyInAnyOrder(1, 2, 3, 4); // p >= 0.075
        assertThat(kept(base.withTopK(4).withTopP(0.9f).withMinP(0.25f), logits)).containsExactlyInAnyOrder(1, 3, 4);
        assertThat(kept(base.withTemperature(0f), logits)).containsExactlyInAnyOrder(1);
    }

    @Test
    void logprobsAreThoseOfTheRawModelDistribution() {
        Random r = new Random(5);
        int vocab = 300;
        float[] logits = randomLogits(r, vocab, 4);
        int[] history = randomHistory(r, 10, vocab);
        Sampler sampler = new Sampler(SamplerSettings.defaults().withSeed(9L).withPenalties(1.3f, 64, 0.2f, 0.1f), vocab);
        int token = sampler.sample(logits, history, history.length);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        for (float v : logits) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        assertThat((double) sampler.lastLogprob()).isCloseTo(logits[token] - lse, within(1e-4));
        assertThat(sampler.lastToken()).isEqualTo(token);

        int[] ids = new int[5];
        float[] lp = new float[5];
        assertThat(sampler.topLogprobs(5, ids, lp)).isEqualTo(5);
        List<Integer> byLogit = new ArrayList<>();
        for (int i = 0; i < vocab; i++) byLogit.add(i);
        byLogit.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        for (int i = 0; i < 5; i++) {
            assertThat(ids[i]).isEqualTo(byLogit.get(i));
            assertThat((double) lp[i]).isCloseTo(logits[ids[i]] - lse, within(1e-4));
        }
    }

    @Test
    void invalidSettingsNameTheParameter() {
        assertThatThrownBy(() -> new SamplerSettings(-0.1f, 0, 1f, 0f, 1f, 64, 0f, 0f, null)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplerSettings(Float.NaN, 0, 1f, 0f, 1f, 64, 0f, 0f, null)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplerSettings(1f, -1, 1f, 0f, 1f, 64, 0f, 0f, null)).hasMessageContaining("topK");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 0f, 0f, 1f, 64, 0f, 0f, null)).hasMessageContaining("topP");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1.5f, 0f, 1f, 64, 0f, 0f, null)).hasMessageContaining("topP");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1f, -0.1f, 1f, 64, 0f, 0f, null)).hasMessageContaining("minP");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1f, 0f, 0f, 64, 0f, 0f, null)).hasMessageContaining("repetitionPenalty");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1f, 0f, 1f, -2, 0f, 0f, null)).hasMessageContaining("penaltyLastN");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 2.5f, 0f, null)).hasMessageContaining("presencePenalty");
        assertThatThrownBy(() -> new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 0f, -3f, null)).hasMessageContaining("frequencyPenalty");
        assertThatThrownBy(() -> new Sampler(SamplerSettings.greedy(), 0)).hasMessageContaining("vocabSize");
        assertThatThrownBy(() -> new Sampler(SamplerSettings.greedy(), 10).sample(new float[5], new int[0], 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logits");
    }
}
