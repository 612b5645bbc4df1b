package ai.autoglm.compress.search;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** One point of the search space: an option for every dimension, in the space's dimension order. */
public record Candidate(Map<String, String> choices) {
    public Candidate {
        choices = Collections.unmodifiableMap(new LinkedHashMap<>(choices));
    }

    public String get(String dimension) {
        String v = choices.get(dimension);
        if (v == null) throw new IllegalArgumentException("candidate has no choice for " + dimension);
        return v;
    }

    /** {@code attn.type=q4_k,ffn.type=q8_0,...}: stable, used to skip repeats and in reports. */
    public String key() {
        return choices.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return key();
    }
}
