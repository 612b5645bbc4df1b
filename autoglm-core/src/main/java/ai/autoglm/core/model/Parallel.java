package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Data-parallel loops for the forward pass, on one pool sized to the cores (its workers are daemon
 * threads; public so the encoder models in {@code model.encoder} share the pool). Work below a
 * threshold runs on the caller: forking costs more than tiny matrices do.
 */
public final class Parallel {
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
    /** Multiply-adds below which a loop stays on the calling thread. */
    private static final long MIN_PARALLEL_WORK = 1 << 15;

    private Parallel() {
    }

    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs {@code body} over {@code [0, n)} split into ranges, each item costing about {@code costPerItem}. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        int p = POOL.getParallelism();
        if (p == 1 || n < 2 || (long) n * costPerItem < MIN_PARALLEL_WORK) {
            body.run(0, n);
            return;
        }
        int grain = Math.max(1, n / (p * 4));
        POOL.invoke(new RangeTask(body, 0, n, grain));
    }

    /**
     * {@code out[outOff + t*d + i] = W[i] . x[xOff + t*n ..]} for rows {@code i < d} and tokens {@code t < count}:
     * a matrix-matrix product that reads each weight row once per chunk, parallel over rows.
     */
    public static void matmul(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        forRange(d, (long) n * count, (from, to) -> {
            for (int i = from; i < to; i++) {
                long row = (long) i * n;
                for (int t = 0; t < count; t++) {
                    out[outOff + t * d + i] = w.dot(row, x, xOff + t * n, n);
                }
            }
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
