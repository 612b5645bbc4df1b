package ai.autoglm.compress.search;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/** The dimensions the search chooses over; their product is the set of candidates. */
public record SearchSpace(List<Dimension> dimensions) {
    public SearchSpace {
        dimensions = List.copyOf(dimensions);
        if (dimensions.isEmpty()) throw new IllegalArgumentException("the search space has no dimensions");
        if (dimensions.stream().map(Dimension::name).distinct().count() != dimensions.size()) {
            throw new IllegalArgumentException("search dimensions must have distinct names");
        }
    }

    /** Number of candidates (saturates at Long.MAX_VALUE). */
    public long size() {
        long n = 1;
        for (Dimension d : dimensions) {
            n = n > Long.MAX_VALUE / d.options().size() ? Long.MAX_VALUE : n * d.options().size();
        }
        return n;
    }

    /** The candidate with option {@code index[i]} in dimension {@code i}. */
    public Candidate candidate(int[] index) {
        Map<String, String> c = new LinkedHashMap<>();
        for (int i = 0; i < dimensions.size(); i++) c.put(dimensions.get(i).name(), dimensions.get(i).options().get(index[i]));
        return new Candidate(c);
    }

    /** The {@code ordinal}-th candidate in grid order (last dimension varies fastest). */
    public Candidate candidate(long ordinal) {
        int[] index = new int[dimensions.size()];
        for (int i = dimensions.size() - 1; i >= 0; i--) {
            int n = dimensions.get(i).options().size();
            index[i] = (int) (ordinal % n);
            ordinal /= n;
        }
        return candidate(index);
    }

    public Candidate random(RandomGenerator rng) {
        int[] index = new int[dimensions.size()];
        for (int i = 0; i < index.length; i++) index[i] = rng.nextInt(dimensions.get(i).options().size());
        return candidate(index);
    }
}
