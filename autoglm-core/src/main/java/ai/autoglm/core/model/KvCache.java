package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * Keys and values of every layer for the positions processed so far, off the Java heap. Storage grows in chunks of
 * {@link #chunkPositions()} positions as the sequence grows (never the whole context at the start); each chunk is one
 * native segment from its own {@link Arena}, laid out {@code [layer][K rows of the chunk | V rows of the chunk]}, a
 * row being one position's {@code kvDim = kvHeads × headDim} elements in the K or V {@link KvCacheType} (GGML blocks
 * of 32 along the head dimension for q8_0/q4_0, as llama.cpp's quantized cache). Attention reads a chunk's rows
 * through {@link FloatTensor} views, so q·k runs the same Vector API kernels as the weights.
 *
 * <p>{@link #close} frees every chunk at once (a released slot or sequence); a cache that is dropped without it is
 * freed when the garbage collector finds it unreachable (a {@link Cleaner}), so callers that never close (tests,
 * one-shot tools) do not leak. Reading a closed cache throws {@link IllegalStateException}. Rows are written by one
 * thread between attention passes (the forward pass); attention may read from several.
 */
public final class KvCache implements AutoCloseable {
    /** Positions per allocation: 256 (llama.cpp pads its cache to 256 cells too, llama-kv-cache.cpp get_padding). */
    public static final int CHUNK_POSITIONS = 256;
    private static final Cleaner CLEANER = Cleaner.create();

    private final int layers;
    private final int capacity;
    private final int kvDim;
    private final int chunk;
    private final KvCacheTypes types;
    private final long keyRowBytes;
    private final long valueRowBytes;
    private final Chunks store;
    private final Cleaner.Cleanable cleanable;

    /** The native memory, apart from the cache object so that the cleaner does not keep the cache reachable. */
    private static final class Chunks implements Runnable {
        final Arena[] arenas;
        final MemorySegment[] segments;
        final FloatTensor[][] keys;   // [chunk][layer]
        final FloatTensor[][] values; // [chunk][layer]
        volatile boolean closed;
        long bytes;

        Chunks(int chunks, int layers) {
            arenas = new Arena[chunks];
            segments = new MemorySegment[chunks];
            keys = new FloatTensor[chunks][];
            values = new FloatTensor[chunks][];
        }

        @Override
        public synchronized void run() {
            closed = true;
            for (int i = 0; i < arenas.length; i++) {
                if (arenas[i] != null) arenas[i].close();
                arenas[i] = null;
                segments[i] = null;
                keys[i] = null;
                values[i] = null;
            }
            bytes = 0;
        }
    }

    /** An F32 cache (the engine's default types). */
    public KvCache(int layers, int capacity, int kvDim) {
        this(layers, capacity, kvDim, kvDim, KvCacheTypes.DEFAULT);
    }

    /**
     * @param headDim rows are split into heads of this many elements; quantized types need it to be a multiple of 32
     */
    public KvCache(int layers, int capacity, int kvDim, int headDim, KvCacheTypes types) {
        if (layers <= 0 || capacity <= 0 || kvDim <= 0 || headDim <= 0 || kvDim % headDim != 0) {
            throw new IllegalArgumentException("KV cache needs positive sizes, got layers=" + layers + " capacity=" + capacity
                    + " kvDim=" + kvDim + " headDim=" + headDim);
        }
        types.keys().checkHeadDim(headDim, "k");
        types.values().checkHeadDim(headDim, "v");
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.types = types;
        this.chunk = Math.min(CHUNK_POSITIONS, capacity);
        this.keyRowBytes = types.keys().rowBytes(kvDim);
        this.valueRowBytes = types.values().rowBytes(kvDim);
        this.store = new Chunks((capacity + chunk - 1) / chunk, layers);
        this.cleanable = CLEANER.register(this, store);
    }

    public int layers() {
        return layers;
    }

    /** Positions it can hold. */
    public int capacity() {
        return capacity;
    }

    /** kvHeads * headDim: the elements of one position's row. */
    public int kvDim() {
        return kvDim;
    }

    public KvCacheTypes types() {
        return types;
    }

    /** Positions per chunk: position p lives in chunk {@code p / chunkPositions()}, row {@code p % chunkPositions()}. */
    public int chunkPositions() {
        return chunk;
    }

    /**
     * Writes position {@code pos}'s key and value rows of {@code layer} ({@code kvDim} floats each), converting them
     * to the cache's types, allocating the position's chunk first if needed.
     */
    public void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        if (pos < 0 || pos >= capacity) throw new IndexOutOfBoundsException("position " + pos + " of a cache of " + capacity);
        int c = pos / chunk;
        MemorySegment seg = store.segments[c];
        if (seg == null) seg = allocate(c);
        long row = pos - (long) c * chunk;
        long layerBase = layer * chunkLayerBytes();
        Quantizer.quantizeRow(types.keys().ggml, k, kOff, kvDim, seg, layerBase + row * keyRowBytes);
        Quantizer.quantizeRow(types.values().ggml, v, vOff, kvDim, seg, layerBase + chunk * keyRowBytes + row * valueRowBytes);
    }

    /** Layer {@code layer}'s key rows of chunk {@code c} as one tensor of {@code chunkPositions × kvDim} elements. */
    public FloatTensor keys(int layer, int c) {
        FloatTensor[] t = store.keys[c];
        if (t == null) throw missing(c);
        return t[layer];
    }

    /** Layer {@code layer}'s value rows of chunk {@code c}, laid out as {@link #keys}. */
    public FloatTensor values(int layer, int c) {
        FloatTensor[] t = store.values[c];
        if (t == null) throw missing(c);
        return t[layer];
    }

    private RuntimeException missing(int c) {
        return store.closed ? new IllegalStateException("the KV cache was closed")
                : new IllegalStateException("KV cache chunk " + c + " was never written");
    }

    private long chunkLayerBytes() {
        return chunk * (keyRowBytes + valueRowBytes);
    }

    private synchronized MemorySegment allocate(int c) {
        synchronized (store) {
            if (store.closed) throw new IllegalStateException("the KV cache was closed");
            if (store.segments[c] != null) return store.segments[c];
            Arena arena = Arena.ofShared();
            MemorySegment seg;
            try {
                seg = arena.allocate(layers * chunkLayerBytes(), 64);
            } catch (OutOfMemoryError | RuntimeException e) {
                arena.close();
                throw e;
            }
            FloatTensor[] k = new FloatTensor[layers], v = new FloatTensor[layers];
            long elements = (long) chunk * kvDim;
            for (int l = 0; l < layers; l++) {
                long base = l * chunkLayerBytes();
                k[l] = Tensors.view(types.keys().ggml, seg.asSlice(base, chunk * keyRowBytes), elements);
                v[l] = Tensors.view(types.values().ggml, seg.asSlice(base + chunk * keyRowBytes, chunk * valueRowBytes), elements);
            }
            store.arenas[c] = arena;
            store.keys[c] = k;
            store.values[c] = v;
            store.bytes += seg.byteSize();
            store.segments[c] = seg; // last: a non-null segment means the views are in place
            return seg;
        }
    }

    /** Native bytes allocated now (whole chunks of the positions written so far). */
    public long bytes() {
        return store.bytes;
    }

    /**
     * Bytes a cache holds once {@code positions} positions are written: whole chunks of {@link #CHUNK_POSITIONS}
     * (or the capacity, when smaller), keys and values of every layer in their types. The memory model's figure.
     */
    public static long bytesFor(ModelConfig c, KvCacheTypes types, int positions, int capacity) {
        if (positions <= 0) return 0;
        int chunk = Math.min(CHUNK_POSITIONS, capacity);
        long chunks = (Math.min(positions, capacity) + chunk - 1L) / chunk;
        return chunks * chunk * c.layers() * types.bytesPerPositionAndLayer(c.kvDim());
    }

    /** Frees every chunk now; the cache cannot be used afterwards. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }
}
