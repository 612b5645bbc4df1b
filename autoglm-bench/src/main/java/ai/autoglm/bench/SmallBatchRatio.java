package ai.autoglm.bench;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.SmallBatchGemm;
import ai.autoglm.core.tensor.Tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * {@link SmallBatchBenchmarks}' three variants interleaved round by round in one JVM (small, k singles, per-row,
 * small, ...), for a machine shared with other jobs: the load changes over seconds, so JMH's consecutive trials
 * of a few seconds each compare different machines, while rounds of ~50 ms alternate under the same load.
 * Prints per (type, k) the median GMAC/s of each variant and the median of the per-round ratios. One thread.
 *
 * <p>{@code java -cp ... ai.autoglm.bench.SmallBatchRatio "Q4_0 Q8_0" "2 4 7" ROUNDS}
 */
public final class SmallBatchRatio {
    static final int N = 2048, ROWS = 2048;

    public static void main(String[] args) {
        ComputeThreads.set(1);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 21;
        SplittableRandom r = new SplittableRandom(42);
        float[] v = new float[N * ROWS];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        for (String typeName : args[0].trim().split("\\s+")) {
            GgmlType t = GgmlType.valueOf(typeName);
            MemorySegment heap = Quantizer.quantize(t, v);
            MemorySegment off = Arena.ofAuto().allocate(heap.byteSize(), 64);
            off.copyFrom(heap);
            FloatTensor w = Tensors.view(t, off, (long) N * ROWS);
            for (String kk : args[1].trim().split("\\s+")) {
                int k = Integer.parseInt(kk);
                float[] x = new float[k * N], out = new float[k * ROWS];
                for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
                SmallBatchGemm.Scratch scratch = new SmallBatchGemm.Scratch();
                Runnable small = () -> {
                    for (int r0 = 0; r0 < ROWS; r0 += SmallBatchGemm.ROWS) SmallBatchGemm.rows(w, r0, N, x, 0, k, out, 0, ROWS, scratch);
                };
                Runnable singles = () -> {
                    for (int tt = 0; tt < k; tt++) Parallel.matmul(w, x, tt * N, N, out, tt * ROWS, ROWS, 1);
                };
                Runnable perRow = () -> {
                    for (int i = 0; i < ROWS; i++) w.dotMany((long) i * N, N, x, 0, N, k, out, i, ROWS);
                };
                // for k >= PanelGemm.MIN_TOKENS "singles" is replaced by the engine's own product (the panel GEMM)
                Runnable gemm = () -> Parallel.matmul(w, x, 0, N, out, 0, ROWS, k);
                Runnable[] variants = {small, k >= ai.autoglm.core.tensor.PanelGemm.MIN_TOKENS ? gemm : singles, perRow};
                for (int warm = 0; warm < 40; warm++) for (Runnable run : variants) run.run();
                // calls per round: about 50 ms of the slowest variant at ~10 GMAC/s
                int calls = Math.max(1, (int) (0.05 * 10e9 / ((double) k * N * ROWS)));
                double[][] gmac = new double[3][rounds];
                for (int round = 0; round < rounds; round++) {
                    for (int vi = 0; vi < 3; vi++) {
                        long t0 = System.nanoTime();
                        for (int c = 0; c < calls; c++) variants[vi].run();
                        gmac[vi][round] = (double) calls * k * N * ROWS / (System.nanoTime() - t0);
                    }
                }
                double[] rs = new double[rounds], rp = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    rs[i] = gmac[0][i] / gmac[1][i];
                    rp[i] = gmac[0][i] / gmac[2][i];
                }
                System.out.printf("{\"type\":\"%s\",\"k\":%d,\"small_gmacs\":%.1f,\"singles_or_gemm_gmacs\":%.1f,\"per_row_gmacs\":%.1f,"
                                + "\"small_vs_singles_or_gemm\":%.2f,\"small_vs_per_row\":%.2f,\"loadavg\":\"%s\"}%n",
                        t, k, median(gmac[0]), median(gmac[1]), median(gmac[2]), median(rs), median(rp), loadavg());
            }
        }
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static String loadavg() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
