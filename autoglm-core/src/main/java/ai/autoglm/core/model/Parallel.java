package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Data-parallel loops for the forward pass (and the training module's backward pass), on one pool of
 * {@link ComputeThreads#count()} threads (daemon workers). Work below a threshold runs on the caller: forking
 * costs more than tiny matrices do.
 */
public final class Parallel {
    /** Multiply-adds below which a loop stays on the calling thread. */
    private static final long MIN_PARALLEL_WORK = 1 << 15;

    private Parallel() {
    }

    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs {@code body} over {@code [0, n)} split into ranges, each item costing about {@code costPerItem}. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        ForkJoinPool pool = ComputeThreads.pool();
        int p = pool.getParallelism();
        if (p == 1 || n < 2 || (long) n * costPerItem < MIN_PARALLEL_WORK) {
            body.run(0, n);
            return;
        }
        int grain = Math.max(1, n / (p * 4));
        pool.invoke(new RangeTask(body, 0, n, grain));
    }

    /**
     * {@code out[outOff + t*d + i] = W[i] . x[xOff + t*n ..]} for rows {@code i < d} and tokens {@code t < count}:
     * a matrix-matrix product that reads each weight row once per chunk (decoding its blocks once per
     * {@link FloatTensor#dotMany} pass of several tokens), parallel over rows.
     */
    public static void matmul(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        forRange(d, (long) n * count, (from, to) -> {
            for (int i = from; i < to; i++) w.dotMany((long) i * n, n, x, xOff, n, count, out, outOff + i, d);
        });
    }

    private static final class RangeTask extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int grain;

        RangeTask(RangeBody body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new RangeTask(body, from, mid, grain), new RangeTask(body, mid, to, grain));
        }
    }
}
