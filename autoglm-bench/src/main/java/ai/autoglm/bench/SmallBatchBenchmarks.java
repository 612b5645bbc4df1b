package ai.autoglm.bench;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.SmallBatchGemm;
import ai.autoglm.core.tensor.Tensors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * A decode step's product over k slots (2048 x 2048, one thread): {@link SmallBatchGemm} ({@code small}) against k
 * single-token products as the engine ran them before ({@code singles}: the prepared-vector kernels where a type
 * has one) and against the per-row {@link FloatTensor#dotMany} kernels ({@code perRow}). GMAC/s = k * 2048 * 2048
 * * ops/s / 1e9.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SmallBatchBenchmarks {
    static final int N = 2048;
    static final int ROWS = 2048;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"2", "4", "7"})
    public int k;

    private FloatTensor w;
    private float[] x;
    private float[] out;
    private final SmallBatchGemm.Scratch scratch = new SmallBatchGemm.Scratch();

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(42);
        float[] v = new float[N * ROWS];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        x = new float[k * N];
        out = new float[k * ROWS];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        ComputeThreads.set(1);
        GgmlType t = GgmlType.valueOf(type);
        MemorySegment heap = Quantizer.quantize(t, v);
        MemorySegment off = Arena.ofAuto().allocate(heap.byteSize(), 64);
        off.copyFrom(heap);
        w = Tensors.view(t, off, (long) N * ROWS);
    }

    @Benchmark
    public float[] small() {
        for (int r0 = 0; r0 < ROWS; r0 += SmallBatchGemm.ROWS) SmallBatchGemm.rows(w, r0, N, x, 0, k, out, 0, ROWS, scratch);
        return out;
    }

    @Benchmark
    public float[] singles() {
        for (int t = 0; t < k; t++) Parallel.matmul(w, x, t * N, N, out, t * ROWS, ROWS, 1);
        return out;
    }

    @Benchmark
    public float[] perRow() {
        for (int i = 0; i < ROWS; i++) w.dotMany((long) i * N, N, x, 0, N, k, out, i, ROWS);
        return out;
    }
}
