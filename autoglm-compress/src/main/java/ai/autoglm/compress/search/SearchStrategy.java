package ai.autoglm.compress.search;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/** Picks the next candidate to try from what has been tried so far; null when it has nothing new to propose. */
public sealed interface SearchStrategy permits SearchStrategy.Grid, SearchStrategy.RandomSearch, TreeParzenSearch {

    Candidate propose(SearchSpace space, List<Trial> history, RandomGenerator rng);

    /** {@code grid}, {@code random} or {@code bayes} (the CLI's names). */
    static SearchStrategy named(String name, Objective objective) {
        return switch (name) {
            case "grid" -> new Grid();
            case "random" -> new RandomSearch();
            case "bayes" -> new TreeParzenSearch(objective);
            default -> throw new IllegalArgumentException("unknown search '" + name + "': use grid, random or bayes");
        };
    }

    /** Every candidate in grid order (last dimension fastest), each once: the n-th proposal is the n-th grid point. */
    record Grid() implements SearchStrategy {
        @Override
        public Candidate propose(SearchSpace space, List<Trial> history, RandomGenerator rng) {
            return history.size() < space.size() ? space.candidate(history.size()) : null;
        }
    }

    /** Uniformly random untried candidates. */
    record RandomSearch() implements SearchStrategy {
        @Override
        public Candidate propose(SearchSpace space, List<Trial> history, RandomGenerator rng) {
            return untriedRandom(space, history, rng);
        }
    }

    static Set<String> triedKeys(List<Trial> history) {
        Set<String> tried = new HashSet<>();
        for (Trial t : history) tried.add(t.candidate().key());
        return tried;
    }

    /** A random candidate not in {@code history}, or null when every candidate has been tried. */
    static Candidate untriedRandom(SearchSpace space, List<Trial> history, RandomGenerator rng) {
        Set<String> tried = triedKeys(history);
        if (tried.size() >= space.size()) return null;
        for (int attempt = 0; attempt < 1000; attempt++) {
            Candidate c = space.random(rng);
            if (!tried.contains(c.key())) return c;
        }
        // A nearly exhausted space: take the first untried one in grid order.
        for (long i = 0; i < space.size(); i++) {
            Candidate c = space.candidate(i);
            if (!tried.contains(c.key())) return c;
        }
        return null;
    }
}
