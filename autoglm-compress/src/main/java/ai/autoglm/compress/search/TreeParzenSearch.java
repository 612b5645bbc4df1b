package ai.autoglm.compress.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Bayesian search over categorical dimensions with a tree-structured Parzen estimator (Bergstra et al. 2011,
 * "Algorithms for Hyper-Parameter Optimization", section 4; the categorical case as in Optuna's TPESampler): after a
 * few random trials, the history is split into the best {@code GAMMA} share ("good") and the rest; for each
 * dimension the option frequencies in each part, with one pseudo-count per option, give densities l(x) and g(x);
 * candidates drawn from l are scored by {@code sum log l/g} (dimensions treated as independent) and the best
 * untried one is proposed. Compression choices interact little across tensor groups, so the independence
 * assumption costs little, and every trial (building and measuring a model) is expensive enough that this
 * bookkeeping is free in comparison.
 */
public record TreeParzenSearch(Objective objective) implements SearchStrategy {
    static final double GAMMA = 0.25;
    static final int CANDIDATES_PER_STEP = 32;

    @Override
    public Candidate propose(SearchSpace space, List<Trial> history, RandomGenerator rng) {
        int startup = Math.max(4, space.dimensions().size() + 1);
        if (history.size() < startup) return SearchStrategy.untriedRandom(space, history, rng);

        List<Trial> sorted = new ArrayList<>(history);
        sorted.sort(objective::compare);
        int nGood = Math.max(1, (int) Math.ceil(GAMMA * sorted.size()));
        List<Trial> good = sorted.subList(0, nGood), bad = sorted.subList(nGood, sorted.size());

        List<Dimension> dims = space.dimensions();
        double[][] l = new double[dims.size()][], g = new double[dims.size()][];
        for (int d = 0; d < dims.size(); d++) {
            l[d] = density(dims.get(d), good);
            g[d] = density(dims.get(d), bad);
        }
        Set<String> tried = SearchStrategy.triedKeys(history);
        Candidate best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < CANDIDATES_PER_STEP; s++) {
            int[] index = new int[dims.size()];
            double score = 0;
            for (int d = 0; d < dims.size(); d++) {
                index[d] = sample(l[d], rng);
                score += Math.log(l[d][index[d]]) - Math.log(g[d][index[d]]);
            }
            Candidate c = space.candidate(index);
            if (!tried.contains(c.key()) && score > bestScore) {
                best = c;
                bestScore = score;
            }
        }
        return best != null ? best : SearchStrategy.untriedRandom(space, history, rng);
    }

    /** Option frequencies of {@code dim} among {@code trials}, one pseudo-count each, normalised. */
    private static double[] density(Dimension dim, List<Trial> trials) {
        double[] p = new double[dim.options().size()];
        java.util.Arrays.fill(p, 1.0);
        for (Trial t : trials) p[dim.options().indexOf(t.candidate().get(dim.name()))] += 1;
        double sum = 0;
        for (double v : p) sum += v;
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    private static int sample(double[] p, RandomGenerator rng) {
        double u = rng.nextDouble(), acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (u < acc) return i;
        }
        return p.length - 1;
    }
}
