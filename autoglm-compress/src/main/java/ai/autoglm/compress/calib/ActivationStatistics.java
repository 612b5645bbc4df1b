package ai.autoglm.compress.calib;

import ai.autoglm.core.model.Projection;
import ai.autoglm.core.model.ProjectionDecorator;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per projection, the sum over calibration rows of each input column's square, {@code sum_t x[t][j]^2}, and the
 * number of rows. This one statistic drives both importance-weighted quantization (llama.cpp's importance matrix,
 * tools/imatrix/imatrix.cpp, accumulates exactly these sums per weight tensor) and Wanda pruning (Sun et al. 2023,
 * "A Simple and Effective Pruning Approach for LLMs": score |W_ij| * ||X_j||_2, the column norm being the square
 * root of the same sum). Use it as the {@link ProjectionDecorator} of a model loaded for calibration, run text
 * through the model, then read {@link #sumOfSquares}.
 */
public final class ActivationStatistics implements ProjectionDecorator {
    private final Map<String, Column> columns = Collections.synchronizedMap(new LinkedHashMap<>());

    /** The sums of one projection's input columns. */
    private static final class Column {
        final double[] sumSq;
        long rows;

        Column(int n) {
            sumSq = new double[n];
        }
    }

    @Override
    public Projection decorate(String tensorName, Projection inner) {
        Column col = columns.computeIfAbsent(tensorName, k -> new Column(inner.inputDim()));
        return new Projection() {
            @Override
            public int inputDim() {
                return inner.inputDim();
            }

            @Override
            public int outputDim() {
                return inner.outputDim();
            }

            @Override
            public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
                int d = inner.inputDim();
                // The forward pass calls each projection from one thread at a time; the lock only guards
                // against two models sharing this collector.
                synchronized (col) {
                    for (int t = 0; t < n; t++) {
                        int row = xOff + t * d;
                        for (int j = 0; j < d; j++) col.sumSq[j] += (double) x[row + j] * x[row + j];
                    }
                    col.rows += n;
                }
                inner.apply(x, xOff, out, outOff, n);
            }
        };
    }

    /** Names of the projections seen, in model order. */
    public java.util.List<String> names() {
        synchronized (columns) {
            return java.util.List.copyOf(columns.keySet());
        }
    }

    /** {@code sum_t x[t][j]^2} per input column {@code j} of {@code tensorName}, or null if it was never bound. */
    public double[] sumOfSquares(String tensorName) {
        Column c = columns.get(tensorName);
        if (c == null) return null;
        synchronized (c) {
            return c.sumSq.clone();
        }
    }

    /** Rows (tokens) that went through {@code tensorName}. */
    public long rows(String tensorName) {
        Column c = columns.get(tensorName);
        if (c == null) return 0;
        synchronized (c) {
            return c.rows;
        }
    }
}
