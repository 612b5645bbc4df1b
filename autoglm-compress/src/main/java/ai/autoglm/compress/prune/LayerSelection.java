package ai.autoglm.compress.prune;

import ai.autoglm.core.model.ModelConfig;

import java.util.Arrays;

/**
 * What one block keeps after structured pruning, as ascending indices into the unpruned block: query heads,
 * key/value heads (GQA groups) and MLP channels. Query head {@code h} belongs to group {@code h / (heads / kvHeads)}
 * (HF repeat_kv, llama.cpp's GQA broadcast); every kept query head must be in a kept group and every kept group keep
 * the same number of query heads, so the pruned block is again uniform GQA that the engine and llama.cpp can run.
 */
public record LayerSelection(int[] keptHeads, int[] keptKvHeads, int[] keptFfn) {

    public LayerSelection {
        keptHeads = keptHeads.clone();
        keptKvHeads = keptKvHeads.clone();
        keptFfn = keptFfn.clone();
    }

    /** Everything kept. */
    public static LayerSelection all(ModelConfig c) {
        return new LayerSelection(range(c.heads()), range(c.kvHeads()), range(c.ffnDim()));
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /** Checks the selection against the unpruned shape; throws IllegalArgumentException naming {@code layer}. */
    public void validate(ModelConfig c, int layer) {
        ascendingWithin(keptHeads, c.heads(), "query heads", layer);
        ascendingWithin(keptKvHeads, c.kvHeads(), "key/value heads", layer);
        ascendingWithin(keptFfn, c.ffnDim(), "MLP channels", layer);
        int group = c.heads() / c.kvHeads();
        int[] perGroup = new int[c.kvHeads()];
        for (int h : keptHeads) perGroup[h / group]++;
        int per = keptHeads.length / keptKvHeads.length;
        for (int g = 0; g < c.kvHeads(); g++) {
            boolean kept = Arrays.binarySearch(keptKvHeads, g) >= 0;
            if (kept ? perGroup[g] != per || keptHeads.length % keptKvHeads.length != 0 : perGroup[g] != 0) {
                throw new IllegalArgumentException("layer " + layer + ": every kept key/value group must keep the same number of query heads"
                        + " and a removed group none (query heads kept per group: " + Arrays.toString(perGroup) + ")");
            }
        }
    }

    private static void ascendingWithin(int[] idx, int n, String what, int layer) {
        if (idx.length == 0) throw new IllegalArgumentException("layer " + layer + ": at least one of the " + n + " " + what + " must stay");
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= n || (i > 0 && idx[i] <= idx[i - 1])) {
                throw new IllegalArgumentException("layer " + layer + ": " + what + " to keep must be ascending indices below " + n + ", got " + Arrays.toString(idx));
            }
        }
    }
}
