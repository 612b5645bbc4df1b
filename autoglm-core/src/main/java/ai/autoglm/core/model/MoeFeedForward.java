package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

/**
 * The MLP of one routed layer: router, top-k experts, and the shared expert (llama.cpp build_moe_ffn plus the
 * {@code ffn_*_shexp} MLP of llm_build_glm4_moe; HF Qwen3MoeSparseMoeBlock / Glm4MoeMoE). Each expert is a SwiGLU MLP
 * {@code down(silu(gate(x)) * up(x))} whose matrices are views of only that expert's bytes of the stacked tensors
 * ({@link WeightSource#expert}), so an expert no token picks is never read. The rows of a chunk are grouped by
 * expert: each selected expert's matrices are read once per chunk, for all the rows that picked it, as one
 * matrix-matrix product.
 */
final class MoeFeedForward {
    private final int layer;
    private final MoeConfig moe;
    private final int dim;
    private final Projection router;
    private final float[] selectionBias;
    private final FloatTensor[] gate, up, down;
    private final Projection sharedGate, sharedUp, sharedDown;

    MoeFeedForward(int layer, MoeConfig moe, int dim, Projection router, float[] selectionBias, FloatTensor[] gate,
                   FloatTensor[] up, FloatTensor[] down, Projection sharedGate, Projection sharedUp, Projection sharedDown) {
        this.layer = layer;
        this.moe = moe;
        this.dim = dim;
        this.router = router;
        this.selectionBias = selectionBias;
        this.gate = gate;
        this.up = up;
        this.down = down;
        this.sharedGate = sharedGate;
        this.sharedUp = sharedUp;
        this.sharedDown = sharedDown;
    }

    /** Per-thread buffers, grown on demand (a forward pass runs on its caller's thread; workers only see slices). */
    private static final class Scratch {
        float[] logits = new float[0], routeScratch = new float[0], weights = new float[0], xe = new float[0],
                g = new float[0], u = new float[0], y = new float[0], sg = new float[0], su = new float[0];
        int[] ids = new int[0], counts = new int[0], order = new int[0], starts = new int[0];
        ai.autoglm.core.tensor.PreparedVector[] prepared = new ai.autoglm.core.tensor.PreparedVector[0];
        boolean[] downPrepared = new boolean[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Bytes of the per-thread buffers {@link #apply} grows to for {@code rows} rows at most: router logits, the routing
     * (ids, weights, order), the gathered rows, the expert and shared-expert activations, the expert outputs.
     */
    static long scratchBytes(MoeConfig moe, int dim, int rows) {
        long e = moe.experts(), k = moe.used(), wide = Math.max(rows, k); // a decode row holds its k experts side by side
        long floats = rows * e + 2 * e + rows * k                  // logits, routeScratch, weights
                + (long) rows * dim + wide * dim                   // xe, y
                + 2L * wide * moe.expertFfn()                      // g, u
                + 2L * rows * moe.sharedFfn()                      // sg, su
                + (k + 2) * (dim + dim / 16 + 16);                 // prepared decode vectors (off-heap), about
        long ints = 2 * rows * k + 2 * e + 1;                      // ids, order, counts, starts
        return (floats + ints) * 4;
    }

    private static float[] grow(float[] a, int n) {
        return a.length >= n ? a : new float[n];
    }

    private static ai.autoglm.core.tensor.PreparedVector[] grow(ai.autoglm.core.tensor.PreparedVector[] a) {
        ai.autoglm.core.tensor.PreparedVector[] b = java.util.Arrays.copyOf(a, Math.max(4, 2 * a.length));
        for (int i = a.length; i < b.length; i++) b[i] = new ai.autoglm.core.tensor.PreparedVector();
        return b;
    }

    private static int[] grow(int[] a, int n) {
        return a.length >= n ? a : new int[n];
    }

    /** {@code out[t] = MoE(x[t])} for rows {@code t < n} of {@code dim} floats (overwrites {@code out}). */
    void apply(float[] x, float[] out, int n, ExpertRoutingObserver observer) {
        int e = moe.experts(), k = moe.used();
        Scratch s = SCRATCH.get();
        s.logits = grow(s.logits, n * e);
        s.routeScratch = grow(s.routeScratch, 2 * e);
        s.weights = grow(s.weights, n * k);
        s.ids = grow(s.ids, n * k);
        router.apply(x, 0, s.logits, 0, n);
        for (int t = 0; t < n; t++) MoeRouter.select(moe, s.logits, t * e, selectionBias, s.ids, s.weights, t * k, s.routeScratch);
        if (observer != null) {
            for (int t = 0; t < n; t++) {
                observer.routed(layer, java.util.Arrays.copyOfRange(s.ids, t * k, t * k + k),
                        java.util.Arrays.copyOfRange(s.weights, t * k, t * k + k));
            }
        }

        java.util.Arrays.fill(out, 0, n * dim, 0f);
        if (n == 1) {
            decodeExperts(x, out, s);
        } else {
            groupedExperts(x, out, n, s);
        }
        sharedExpert(x, out, n, s);
    }

    /**
     * One row: the k selected experts' gate and up rows as one parallel loop, then their down rows as another (two
     * dispatches to the compute threads instead of 3k), each matrix read through its decode kernel with the input
     * prepared once ({@link FloatTensor#prepare}; the experts of one stacked tensor share its type).
     */
    private void decodeExperts(float[] x, float[] out, Scratch s) {
        int k = moe.used(), eff = moe.expertFfn();
        s.g = grow(s.g, k * eff);
        s.u = grow(s.u, k * eff);
        s.y = grow(s.y, k * dim);
        while (s.prepared.length < k + 2) s.prepared = grow(s.prepared);
        int[] ids = s.ids;
        FloatTensor g0 = gate[ids[0]], u0 = up[ids[0]];
        boolean gatePrepared = g0.prepare(x, 0, dim, s.prepared[k]);
        boolean upPrepared = g0.type() == u0.type() ? gatePrepared : u0.prepare(x, 0, dim, s.prepared[k + 1]);
        ai.autoglm.core.tensor.PreparedVector pg = s.prepared[k], pu = g0.type() == u0.type() ? pg : s.prepared[k + 1];
        float[] g = s.g, u = s.u, y = s.y;
        Parallel.forRange(k * eff, 2L * dim, (from, to) -> {
            for (int i = from; i < to; i++) {
                int j = i / eff, row = i % eff;
                FloatTensor ge = gate[ids[j]], ue = up[ids[j]];
                long at = (long) row * dim;
                g[i] = gatePrepared ? ge.dotPrepared(at, pg) : ge.dot(at, x, 0, dim);
                u[i] = upPrepared ? ue.dotPrepared(at, pu) : ue.dot(at, x, 0, dim);
            }
        });
        for (int i = 0; i < k * eff; i++) g[i] = silu(g[i]) * u[i];
        boolean[] downPrepared = s.downPrepared.length >= k ? s.downPrepared : (s.downPrepared = new boolean[k]);
        for (int j = 0; j < k; j++) downPrepared[j] = down[ids[j]].prepare(g, j * eff, eff, s.prepared[j]);
        ai.autoglm.core.tensor.PreparedVector[] pd = s.prepared;
        Parallel.forRange(k * dim, eff, (from, to) -> {
            for (int i = from; i < to; i++) {
                int j = i / dim, row = i % dim;
                FloatTensor de = down[ids[j]];
                long at = (long) row * eff;
                y[i] = downPrepared[j] ? de.dotPrepared(at, pd[j]) : de.dot(at, g, j * eff, eff);
            }
        });
        for (int j = 0; j < k; j++) {
            float w = s.weights[j];
            for (int i = 0; i < dim; i++) out[i] += w * y[j * dim + i];
        }
    }

    /** Rows grouped by expert: each selected expert's matrices once, for all the rows that chose it, as matrix products. */
    private void groupedExperts(float[] x, float[] out, int n, Scratch s) {
        int e = moe.experts(), k = moe.used(), eff = moe.expertFfn();
        // Group the (row, slot) pairs by expert: counting sort on the expert id.
        s.counts = grow(s.counts, e);
        s.starts = grow(s.starts, e + 1);
        s.order = grow(s.order, n * k);
        java.util.Arrays.fill(s.counts, 0, e, 0);
        for (int i = 0; i < n * k; i++) s.counts[s.ids[i]]++;
        s.starts[0] = 0;
        for (int i = 0; i < e; i++) s.starts[i + 1] = s.starts[i] + s.counts[i];
        java.util.Arrays.fill(s.counts, 0, e, 0);
        for (int i = 0; i < n * k; i++) {
            int ex = s.ids[i];
            s.order[s.starts[ex] + s.counts[ex]++] = i;
        }

        int maxRows = 0;
        for (int i = 0; i < e; i++) maxRows = Math.max(maxRows, s.counts[i]);
        s.xe = grow(s.xe, maxRows * dim);
        s.g = grow(s.g, maxRows * eff);
        s.u = grow(s.u, maxRows * eff);
        s.y = grow(s.y, maxRows * dim);
        for (int ex = 0; ex < e; ex++) {
            int rows = s.counts[ex];
            if (rows == 0) continue; // never read: its pages stay where they are
            for (int r = 0; r < rows; r++) {
                int t = s.order[s.starts[ex] + r] / k;
                System.arraycopy(x, t * dim, s.xe, r * dim, dim);
            }
            Parallel.matmul(gate[ex], s.xe, 0, dim, s.g, 0, eff, rows);
            Parallel.matmul(up[ex], s.xe, 0, dim, s.u, 0, eff, rows);
            for (int i = 0; i < rows * eff; i++) s.g[i] = silu(s.g[i]) * s.u[i];
            Parallel.matmul(down[ex], s.g, 0, eff, s.y, 0, dim, rows);
            for (int r = 0; r < rows; r++) {
                int slot = s.order[s.starts[ex] + r], t = slot / k;
                float w = s.weights[slot];
                for (int i = 0; i < dim; i++) out[t * dim + i] += w * s.y[r * dim + i];
            }
        }
    }

    private void sharedExpert(float[] x, float[] out, int n, Scratch s) {
        if (sharedGate != null) {
            int sff = moe.sharedFfn();
            s.sg = grow(s.sg, n * sff);
            s.su = grow(s.su, n * sff);
            s.y = grow(s.y, n * dim);
            sharedGate.apply(x, 0, s.sg, 0, n);
            sharedUp.apply(x, 0, s.su, 0, n);
            for (int i = 0; i < n * sff; i++) s.sg[i] = silu(s.sg[i]) * s.su[i];
            sharedDown.apply(s.sg, 0, s.y, 0, n);
            for (int i = 0; i < n * dim; i++) out[i] += s.y[i];
        }
    }

    private static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }
}
