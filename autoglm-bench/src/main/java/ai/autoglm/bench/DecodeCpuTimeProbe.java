package ai.autoglm.bench;

import ai.autoglm.core.tensor.*;
import java.lang.foreign.*;
import java.util.*;

/**
 * Decode (one token) speed of one 2048 x 2048 matrix per GGML type, the way {@code Parallel.matmul} runs it on one
 * thread ({@code prepare} + {@code dotPrepared} where a type has them, else {@code dot}), timed by the thread's CPU
 * time and reported as the best of many rounds of 10 products: on a machine shared with other jobs wall time (as in
 * JMH) counts their time too. Run one type per JVM: {@code java --add-modules jdk.incubator.vector -cp
 * autoglm-bench/target/classes:autoglm-bench/target/lib/* ai.autoglm.bench.DecodeCpuTimeProbe Q4_K 10}
 * (types comma-separated, seconds per type). The K-quant table of bench/RESULTS.md (Speed II) comes from it.
 */
public final class DecodeCpuTimeProbe {
    static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
    public static void main(String[] a) {
        int n = 2048, rows = 2048;
        String[] types = a[0].split(",");
        double secs = Double.parseDouble(a.length > 1 ? a[1] : "3");
        SplittableRandom r = new SplittableRandom(42);
        float[] v = new float[n * rows];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (String ts : types) {
            GgmlType t = GgmlType.valueOf(ts);
            MemorySegment heap = Quantizer.quantize(t, v);
            MemorySegment off = Arena.ofAuto().allocate(heap.byteSize(), 64);
            off.copyFrom(heap);
            FloatTensor w = Tensors.view(t, off, (long) n * rows);
            PreparedVector pv = new PreparedVector();
            float[] out = new float[rows];
            double best = 0;
            long end = System.nanoTime() + (long) (secs * 1e9);
            while (System.nanoTime() < end) {
                long t0 = BEAN.getCurrentThreadCpuTime();
                for (int k = 0; k < 10; k++) {
                    if (w.prepare(x, 0, n, pv)) { for (int i = 0; i < rows; i++) out[i] = w.dotPrepared((long) i * n, pv); }
                    else for (int i = 0; i < rows; i++) out[i] = w.dot((long) i * n, x, 0, n);
                }
                double g = 10.0 * n * rows / (BEAN.getCurrentThreadCpuTime() - t0);
                best = Math.max(best, g);
            }
            System.out.printf("%s best %.1f GMAC/s (out[0]=%f)%n", ts, best, out[0]);
        }
    }
}
