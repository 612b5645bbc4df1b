package ai.autoglm.compress.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Runs a search: the strategy proposes candidates, the runner really builds and measures each one, and at the end
 * the best candidate meeting the constraints is chosen. A candidate that fails to build or measure is recorded with
 * its error and the search goes on. Deterministic for a given seed when the runner is.
 */
public final class CompressionSearch {

    /** Builds a candidate and measures it; throws when the candidate cannot be built. */
    @FunctionalInterface
    public interface TrialRunner {
        Measurement measure(Candidate candidate) throws Exception;
    }

    /** Told about each finished trial (progress bars, logs). */
    @FunctionalInterface
    public interface Listener {
        void trialDone(Trial trial, int planned);
    }

    private final SearchSpace space;
    private final SearchStrategy strategy;
    private final Constraints constraints;

    public CompressionSearch(SearchSpace space, SearchStrategy strategy, Constraints constraints) {
        this.space = space;
        this.strategy = strategy;
        this.constraints = constraints;
    }

    /** Tries up to {@code maxTrials} candidates (fewer when the space runs out). */
    public SearchResult run(TrialRunner runner, int maxTrials, long seed, Listener listener) {
        if (maxTrials < 1) throw new IllegalArgumentException("--trials must be at least 1");
        int planned = (int) Math.min(maxTrials, space.size());
        SplittableRandom rng = new SplittableRandom(seed);
        List<Trial> trials = new ArrayList<>();
        while (trials.size() < planned) {
            Candidate c = strategy.propose(space, trials, rng);
            if (c == null) break;
            Trial t;
            try {
                t = new Trial(trials.size() + 1, c, runner.measure(c), null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("compression search interrupted", e);
            } catch (Exception e) {
                String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                t = new Trial(trials.size() + 1, c, null, msg);
            }
            trials.add(t);
            listener.trialDone(t, planned);
        }
        return result(trials);
    }

    SearchResult result(List<Trial> trials) {
        Objective objective = new Objective(constraints);
        Optional<Trial> chosen = trials.stream().filter(Trial::measured).filter(t -> constraints.satisfied(t.measurement()))
                .min(objective::compare);
        Optional<Trial> closest = chosen.isPresent() ? Optional.empty() : trials.stream().filter(Trial::measured)
                .min(Comparator.comparingDouble((Trial t) -> constraints.violation(t.measurement())).thenComparing(objective::compare));
        return new SearchResult(trials, ParetoFront.of(trials), chosen, closest);
    }
}
