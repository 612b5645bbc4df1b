package ai.autoglm.compress.prune;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Structured pruning by counts; {@link StructuredPruning#select} turns it into per-layer {@link LayerSelection}s by
 * calibration importance. The engine's {@link ai.autoglm.core.model.ModelConfig} has one head count and one MLP width
 * for all layers, so the same number is removed from every layer (which ones differ per layer).
 *
 * @param headsToRemove    query heads removed per layer, spread evenly over the key/value groups (a multiple of the
 *                         group count; with one query head per group it removes whole groups)
 * @param kvGroupsToRemove whole key/value groups removed per layer, with their query heads (shrinks the KV cache)
 * @param ffnKeep          share of MLP channels kept, in (0, 1]
 * @param dropLayers       blocks removed outright (indices into the unpruned model)
 */
public record StructuredPlan(int headsToRemove, int kvGroupsToRemove, double ffnKeep, SortedSet<Integer> dropLayers) {

    public StructuredPlan {
        if (headsToRemove < 0) throw new IllegalArgumentException("--heads must not be negative, got " + headsToRemove);
        if (kvGroupsToRemove < 0) throw new IllegalArgumentException("--kv-groups must not be negative, got " + kvGroupsToRemove);
        if (!(ffnKeep > 0 && ffnKeep <= 1)) throw new IllegalArgumentException("--ffn-keep must be in (0, 1], got " + ffnKeep);
        dropLayers = new TreeSet<>(dropLayers);
    }

    public static StructuredPlan none() {
        return new StructuredPlan(0, 0, 1.0, new TreeSet<>());
    }

    public StructuredPlan withHeads(int n) {
        return new StructuredPlan(n, kvGroupsToRemove, ffnKeep, dropLayers);
    }

    public StructuredPlan withKvGroups(int n) {
        return new StructuredPlan(headsToRemove, n, ffnKeep, dropLayers);
    }

    public StructuredPlan withFfnKeep(double keep) {
        return new StructuredPlan(headsToRemove, kvGroupsToRemove, keep, dropLayers);
    }

    public StructuredPlan withDropLayers(Set<Integer> layers) {
        return new StructuredPlan(headsToRemove, kvGroupsToRemove, ffnKeep, new TreeSet<>(layers));
    }

    /** Whether heads or channels are removed (needs calibration statistics). */
    public boolean shrinksLayers() {
        return headsToRemove > 0 || kvGroupsToRemove > 0 || ffnKeep < 1;
    }
}
