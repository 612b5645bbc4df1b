package ai.autoglm.compress.search;

import java.util.List;

/**
 * One choice the search makes, e.g. {@code ffn.type} in {@code [f16, q8_0, q4_k, q4_0]} or {@code ffn.keep} in
 * {@code [1.0, 0.875, 0.75]}. Options are strings so that every kind of choice (type, ratio, rank) is handled alike;
 * the order is the one grid search walks, from least to most compression by convention.
 */
public record Dimension(String name, List<String> options) {
    public Dimension {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a search dimension needs a name");
        options = List.copyOf(options);
        if (options.isEmpty()) throw new IllegalArgumentException("search dimension " + name + " has no options");
        if (options.stream().distinct().count() != options.size()) throw new IllegalArgumentException("search dimension " + name + " repeats an option");
    }

    public static Dimension of(String name, String... options) {
        return new Dimension(name, List.of(options));
    }
}
