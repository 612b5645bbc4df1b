package ai.autoglm.compress.search;

import java.util.List;
import java.util.Optional;

/**
 * Every trial of a search, its Pareto front, the chosen trial (the best one meeting every constraint) and, when
 * none does, the one that came closest.
 */
public record SearchResult(List<Trial> trials, List<Trial> paretoFront, Optional<Trial> chosen, Optional<Trial> closest) {
    public SearchResult {
        trials = List.copyOf(trials);
        paretoFront = List.copyOf(paretoFront);
    }
}
