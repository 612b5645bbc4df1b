package ai.autoglm.core.model;

/**
 * Keys and values of every layer for the positions processed so far. Each layer's K and V are one
 * {@code float[]} laid out {@code [position][kvHead][headDim]}, so attention over positions reads memory
 * sequentially and appending a token writes one contiguous {@code kvDim} run.
 */
public final class KvCache {
    private final int layers;
    private final int capacity;
    private final int kvDim;
    private final float[][] keys;
    private final float[][] values;

    public KvCache(int layers, int capacity, int kvDim) {
        if (layers <= 0 || capacity <= 0 || kvDim <= 0) {
            throw new IllegalArgumentException("KV cache needs positive sizes, got layers=" + layers + " capacity=" + capacity + " kvDim=" + kvDim);
        }
        long perLayer = (long) capacity * kvDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions x " + kvDim + " is too large for one layer array");
        }
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
    }

    public int layers() {
        return layers;
    }

    /** Positions it can hold. */
    public int capacity() {
        return capacity;
    }

    /** kvHeads * headDim: the stride between positions. */
    public int kvDim() {
        return kvDim;
    }

    /** Layer {@code layer}'s keys, {@code [position][kvHead][headDim]}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s values, {@code [position][kvHead][headDim]}. */
    public float[] values(int layer) {
        return values[layer];
    }

    /** Bytes held. */
    public long bytes() {
        return 2L * layers * capacity * kvDim * Float.BYTES;
    }
}
