package ai.autoglm.core.model;

/**
 * One sequence's mutable state: its KV cache, how many positions are filled, and every scratch buffer the
 * forward pass needs, allocated once so that decoding allocates nothing per token. Not thread-safe: one
 * sequence, one caller at a time.
 */
public final class InferenceState implements AutoCloseable {
    final ModelConfig config;
    final KvCache cache;
    /** Tokens processed per chunk (rows of the scratch matrices). */
    final int batch;
    private int position;

    // Activations, [batch][width] row-major.
    final float[] x;
    final float[] xb;
    final float[] xb2;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] qkv;     // fused projections only
    final float[] att;     // attention output, [batch][qDim]
    final float[] hb;
    final float[] hb2;     // up, or fused gate|up [batch][2*ffn]
    final float[] scores;  // [heads][capacity]
    final float[] vrow;    // [heads][headDim]: one value row dequantized, per query head (heads run in parallel)
    final float[] ropeCos; // [batch][rotaryDim/2]
    final float[] ropeSin;
    final float[] logits;  // the last row's logits, returned by forward when not all rows are wanted

    InferenceState(ModelConfig c, int capacity, int batch) {
        this(c, capacity, batch, KvCacheTypes.DEFAULT);
    }

    InferenceState(ModelConfig c, int capacity, int batch, KvCacheTypes kvTypes) {
        this.config = c;
        this.cache = new KvCache(c.layers(), capacity, c.kvDim(), c.headDim(), kvTypes);
        this.batch = batch;
        int qkvWidth = c.qDim() + 2 * c.kvDim();
        this.x = new float[batch * c.dim()];
        this.xb = new float[batch * c.dim()];
        this.xb2 = new float[batch * c.dim()];
        this.q = new float[batch * c.qDim()];
        this.k = new float[batch * c.kvDim()];
        this.v = new float[batch * c.kvDim()];
        this.qkv = c.architecture().fusedQkv() ? new float[batch * qkvWidth] : null;
        this.att = new float[batch * c.qDim()];
        this.hb = new float[batch * c.ffnDim()];
        this.hb2 = new float[batch * c.ffnDim() * (c.architecture().fusedGateUp() ? 2 : 1)];
        this.scores = new float[Math.multiplyExact(c.heads(), capacity)];
        this.vrow = new float[c.qDim()];
        this.ropeCos = new float[batch * (c.rotaryDim() / 2)];
        this.ropeSin = new float[batch * (c.rotaryDim() / 2)];
        this.logits = new float[c.vocabSize()];
    }

    /**
     * Bytes of the float buffers a state of {@code capacity} positions and {@code batch} rows allocates besides its KV
     * cache: the sum of the constructor's arrays, so that memory estimates ({@link ai.autoglm.core.memory.MemoryModel}) take
     * the engine's own layout instead of mirroring it; MemoryModelTest checks it against the allocated arrays.
     */
    public static long scratchBytes(ModelConfig c, int capacity, int batch) {
        long perRow = 3L * c.dim()                                                   // x, xb, xb2
                + 2L * c.qDim()                                                      // q, att
                + 2L * c.kvDim()                                                     // k, v
                + (c.architecture().fusedQkv() ? c.qDim() + 2L * c.kvDim() : 0)      // qkv
                + (long) c.ffnDim() * (c.architecture().fusedGateUp() ? 3 : 2)      // hb, hb2
                + 2L * (c.rotaryDim() / 2);                                          // ropeCos, ropeSin
        long floats = perRow * batch + (long) c.heads() * capacity + c.vocabSize() // scores, logits
                + c.qDim();                                                          // vrow
        return floats * Float.BYTES;
    }

    /** Bytes of an F32 KV cache once {@code positions} positions are filled ({@link KvCache#bytesFor}). */
    public static long kvCacheBytes(ModelConfig c, int positions) {
        return kvCacheBytes(c, KvCacheTypes.DEFAULT, positions);
    }

    /** Bytes of a KV cache of these types once {@code positions} positions (its capacity) are filled ({@link KvCache#bytesFor}). */
    public static long kvCacheBytes(ModelConfig c, KvCacheTypes types, int positions) {
        return KvCache.bytesFor(c, types, positions, positions);
    }

    /** The next position to fill = number of tokens in the cache. */
    public int position() {
        return position;
    }

    /** Positions the cache can hold. */
    public int capacity() {
        return cache.capacity();
    }

    public KvCache kvCache() {
        return cache;
    }

    /**
     * Rewinds to {@code position} (0 clears): the cache keeps positions below it, later ones are
     * overwritten by the next forward. Used to reuse a shared prompt prefix or drop rejected tokens.
     */
    public void rewind(int position) {
        if (position < 0 || position > this.position) {
            throw new IllegalArgumentException("cannot rewind to " + position + " from position " + this.position);
        }
        this.position = position;
    }

    /** Frees the KV cache's native memory now (a released slot); the state cannot run afterwards. */
    @Override
    public void close() {
        cache.close();
    }

    void advance(int count) {
        position += count;
    }
}
