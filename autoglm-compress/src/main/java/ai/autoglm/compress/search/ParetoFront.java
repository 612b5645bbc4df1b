package ai.autoglm.compress.search;

import java.util.ArrayList;
import java.util.List;

/**
 * The trials no other trial beats on every objective at once: less or equal memory, less or equal mean KLD and at
 * least the same decode speed, better on one. The user picks from this front when the budget allows several
 * trade-offs.
 */
public final class ParetoFront {
    private ParetoFront() {
    }

    public static List<Trial> of(List<Trial> trials) {
        List<Trial> measured = trials.stream().filter(Trial::measured).toList();
        List<Trial> front = new ArrayList<>();
        for (Trial t : measured) {
            boolean dominated = false;
            for (Trial o : measured) {
                if (o != t && dominates(o.measurement(), t.measurement())) {
                    dominated = true;
                    break;
                }
            }
            if (!dominated) front.add(t);
        }
        front.sort(java.util.Comparator.comparingLong(t -> t.measurement().memoryBytes()));
        return front;
    }

    /** Whether {@code a} is at least as good as {@code b} on every objective and better on one. */
    static boolean dominates(Measurement a, Measurement b) {
        boolean noWorse = a.memoryBytes() <= b.memoryBytes() && a.meanKld() <= b.meanKld() && a.tokensPerSecond() >= b.tokensPerSecond();
        boolean better = a.memoryBytes() < b.memoryBytes() || a.meanKld() < b.meanKld() || a.tokensPerSecond() > b.tokensPerSecond();
        return noWorse && better;
    }
}
