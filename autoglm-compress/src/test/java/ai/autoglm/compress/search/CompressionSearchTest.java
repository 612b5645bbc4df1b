package ai.autoglm.compress.search;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The search on a synthetic objective whose optimum the test finds by brute force: six tensor groups, each
 * quantized to one of four types with made-up sizes and KLD contributions (additive, like per-tensor KLD roughly is).
 */
public class CompressionSearchTest {
    static final List<String> TYPES = List.of("f16", "q8_0", "q4_k", "q4_0");
    static final Map<String, Double> BYTES_PER_WEIGHT = Map.of("f16", 2.0, "q8_0", 1.0625, "q4_k", 0.5625, "q4_0", 0.5625);
    static final Map<String, Double> KLD_PER_GROUP = Map.of("f16", 0.0, "q8_0", 0.0004, "q4_k", 0.006, "q4_0", 0.011);
    static final String[] GROUPS = {"attn_qkv", "attn_out", "ffn_up", "ffn_gate", "ffn_down", "output"};
    static final long[] GROUP_WEIGHTS = {300_000, 100_000, 500_000, 500_000, 500_000, 800_000};

    public static SearchSpace space() {
        List<Dimension> dims = new ArrayList<>();
        for (String g : GROUPS) dims.add(new Dimension(g + ".type", TYPES));
        return new SearchSpace(dims);
    }

    /** Memory and KLD of a candidate, as a stand-in for building and measuring it; the groups differ in sensitivity. */
    public static Measurement synthetic(Candidate c) {
        double bytes = 50_000, kld = 0;
        for (int i = 0; i < GROUPS.length; i++) {
            String type = c.get(GROUPS[i] + ".type");
            bytes += GROUP_WEIGHTS[i] * BYTES_PER_WEIGHT.get(type);
            kld += KLD_PER_GROUP.get(type) * (i == GROUPS.length - 1 ? 3 : 1) * (i == 4 ? 2 : 1);
        }
        return new Measurement((long) bytes, (long) bytes, kld, 2 * kld, 3 * kld, 1 - kld, 10 + kld, 1e9 / bytes);
    }

    /** Brute force over all 4^6 candidates: the smallest KLD that fits, ties by speed. */
    static Candidate bruteForceBest(Constraints c) {
        SearchSpace s = space();
        Candidate best = null;
        Measurement bm = null;
        for (long i = 0; i < s.size(); i++) {
            Candidate cand = s.candidate(i);
            Measurement m = synthetic(cand);
            if (!c.satisfied(m)) continue;
            if (bm == null || m.meanKld() < bm.meanKld() || (m.meanKld() == bm.meanKld() && m.tokensPerSecond() > bm.tokensPerSecond())) {
                best = cand;
                bm = m;
            }
        }
        return best;
    }

    static final Constraints MIXED_BUDGET = new Constraints(2_400_000, null, null);

    @Test
    void gridOverTheWholeSpaceFindsTheBruteForceOptimum() {
        SearchResult r = new CompressionSearch(space(), new SearchStrategy.Grid(), MIXED_BUDGET)
                .run(CompressionSearchTest::synthetic, 10_000, 1, (t, n) -> { });
        assertThat(r.trials()).hasSize(4096);
        Candidate expected = bruteForceBest(MIXED_BUDGET);
        assertThat(r.chosen()).isPresent();
        assertThat(synthetic(r.chosen().get().candidate()).meanKld()).isEqualTo(synthetic(expected).meanKld());
        // The budget forces a mix: neither all-f16 nor all-q4_0 is the answer.
        assertThat(r.chosen().get().candidate().choices().values().stream().distinct().count()).isGreaterThan(1);
    }

    @Test
    void bayesFindsANearOptimumWithAFewPercentOfTheTrialsAndBeatsRandomAtEqualTrials() {
        Candidate expected = bruteForceBest(MIXED_BUDGET);
        double optimum = synthetic(expected).meanKld();
        int wins = 0;
        for (long seed = 1; seed <= 5; seed++) {
            Objective o = new Objective(MIXED_BUDGET);
            SearchResult bayes = new CompressionSearch(space(), new TreeParzenSearch(o), MIXED_BUDGET).run(CompressionSearchTest::synthetic, 120, seed, (t, n) -> { });
            SearchResult random = new CompressionSearch(space(), new SearchStrategy.RandomSearch(), MIXED_BUDGET).run(CompressionSearchTest::synthetic, 120, seed, (t, n) -> { });
            assertThat(bayes.chosen()).isPresent();
            double b = bayes.chosen().get().measurement().meanKld();
            double rr = random.chosen().map(t -> t.measurement().meanKld()).orElse(Double.POSITIVE_INFINITY);
            assertThat(b).as("seed " + seed).isLessThanOrEqualTo(optimum * 1.5 + 1e-12);
            if (b <= rr) wins++;
        }
        assertThat(wins).as("bayes at least as good as random, out of 5 seeds").isGreaterThanOrEqualTo(4);
    }

    @Test
    void neverChoosesACandidateOverBudgetAndReportsTheClosestWhenNothingFits() {
        Constraints impossible = new Constraints(100_000, null, null);
        SearchResult r = new CompressionSearch(space(), new SearchStrategy.RandomSearch(), impossible)
                .run(CompressionSearchTest::synthetic, 50, 3, (t, n) -> { });
        assertThat(r.chosen()).isEmpty();
        assertThat(r.closest()).isPresent();
        long smallest = r.trials().stream().mapToLong(t -> t.measurement().memoryBytes()).min().orElseThrow();
        assertThat(r.closest().get().measurement().memoryBytes()).isEqualTo(smallest);

        for (SearchStrategy s : List.of(new SearchStrategy.Grid(), new SearchStrategy.RandomSearch(), new TreeParzenSearch(new Objective(MIXED_BUDGET)))) {
            SearchResult ok = new CompressionSearch(space(), s, MIXED_BUDGET).run(CompressionSearchTest::synthetic, 60, 9, (t, n) -> { });
            ok.chosen().ifPresent(t -> assertThat(t.measurement().memoryBytes()).isLessThanOrEqualTo(MIXED_BUDGET.budgetBytes()));
        }
    }

    @Test
    void qualityConstraintsAreRespectedAndUnreachableOnesSaySo() {
        Constraints kld = new Constraints(10_000_000, 0.001, null);
        SearchResult r = new CompressionSearch(space(), new SearchStrategy.Grid(), kld).run(CompressionSearchTest::synthetic, 5000, 1, (t, n) -> { });
        assertThat(r.chosen()).isPresent();
        assertThat(r.chosen().get().measurement().meanKld()).isLessThanOrEqualTo(0.001);

        Constraints unreachable = new Constraints(1_000_000, 0.0001, null);
        SearchResult u = new CompressionSearch(space(), new SearchStrategy.Grid(), unreachable).run(CompressionSearchTest::synthetic, 5000, 1, (t, n) -> { });
        assertThat(u.chosen()).isEmpty();
        assertThat(u.closest()).isPresent();
    }

    @Test
    void failedTrialsAreRecordedAndTheSearchGoesOn() {
        SearchResult r = new CompressionSearch(space(), new SearchStrategy.Grid(), MIXED_BUDGET).run(c -> {
            if (c.get("output.type").equals("q4_0")) throw new IllegalStateException("cannot build " + c.key());
            return synthetic(c);
        }, 40, 1, (t, n) -> { });
        assertThat(r.trials()).hasSize(40);
        assertThat(r.trials().stream().filter(t -> !t.measured())).hasSize(10).allSatisfy(t -> assertThat(t.error()).startsWith("cannot build"));
        assertThat(r.paretoFront()).allSatisfy(t -> assertThat(t.measured()).isTrue());
    }

    @Test
    void paretoFrontMatchesAPairwiseCheck() {
        SearchResult r = new CompressionSearch(space(), new SearchStrategy.RandomSearch(), MIXED_BUDGET).run(CompressionSearchTest::synthetic, 200, 5, (t, n) -> { });
        for (Trial t : r.trials()) {
            boolean dominated = r.trials().stream().anyMatch(o -> o != t
                    && o.measurement().memoryBytes() <= t.measurement().memoryBytes() && o.measurement().meanKld() <= t.measurement().meanKld()
                    && o.measurement().tokensPerSecond() >= t.measurement().tokensPerSecond()
                    && (o.measurement().memoryBytes() < t.measurement().memoryBytes() || o.measurement().meanKld() < t.measurement().meanKld()
                    || o.measurement().tokensPerSecond() > t.measurement().tokensPerSecond()));
            assertThat(r.paretoFront().contains(t)).as(t.candidate().key()).isEqualTo(!dominated);
        }
    }

    @Test
    void sameSeedSameTrials() {
        Objective o = new Objective(MIXED_BUDGET);
        List<String> a = new CompressionSearch(space(), new TreeParzenSearch(o), MIXED_BUDGET).run(CompressionSearchTest::synthetic, 30, 42, (t, n) -> { })
                .trials().stream().map(t -> t.candidate().key()).toList();
        List<String> b = new CompressionSearch(space(), new TreeParzenSearch(o), MIXED_BUDGET).run(CompressionSearchTest::synthetic, 30, 42, (t, n) -> { })
                .trials().stream().map(t -> t.candidate().key()).toList();
        assertThat(a).isEqualTo(b).doesNotHaveDuplicates();
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> new Constraints(0, null, null)).hasMessageContaining("budget");
        assertThatThrownBy(() -> SearchStrategy.named("anneal", new Objective(MIXED_BUDGET))).hasMessageContaining("grid, random or bayes");
        assertThatThrownBy(() -> Dimension.of("x")).hasMessageContaining("no options");
    }
}
