package ai.autoglm.bench;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
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
 * One weight matrix (2048 x 2048, as a 1B model's attention projections) in every GGML type, multiplied on one
 * thread the two ways the forward pass does: {@link #matvec} (decode: each row dotted with one token) and
 * {@link #matmul4} (prefill: each row against four tokens through {@link FloatTensor#dotMany}). The weights live
 * off-heap like memory-mapped ones; 2048 x 2048 Q4_0 is 2.3 MB, so the matrix sits in L2/L3 and the numbers are
 * kernel speed, not memory bandwidth. {@link #gemm64} is a prefill chunk of 64 tokens through {@link Parallel#matmul}
 * (the panel GEMM, or for K-quants under {@code -p kernels=auto} the native K-quant GEMM), {@link #rows64} the same
 * product row by row through {@code dotMany} (the path the panel GEMM replaced).
 * Score: matrices per second; GMAC/s = score * 2048 * 2048 (* 4 for matmul4, * 64 for gemm64/rows64) / 1e9.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmarks {
    static final int N = 2048;
    static final int ROWS = 2048;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    /**
     * Which kernels {@link Parallel#matmul} takes ({@code KernelChoice}): {@code auto} (the native library where it
     * loaded: for K-quants from 8 tokens its GEMM) or {@code java} (the Vector API kernels, the panel GEMM for gemm64).
     */
    @Param({"auto"})
    public String kernels;

    private FloatTensor w;
    private final float[] x = new float[4 * N];
    private final float[] out = new float[4 * ROWS];
    private final float[] x64 = new float[64 * N];
    private final float[] out64 = new float[64 * ROWS];

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(42);
        float[] v = new float[N * ROWS];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < x64.length; i++) x64[i] = (float) (r.nextDouble() * 2 - 1);
        ComputeThreads.set(1);
        ai.autoglm.core.tensor.KernelChoice.set(ai.autoglm.core.tensor.KernelChoice.parse(kernels));
        GgmlType t = GgmlType.valueOf(type);
        MemorySegment heap = Quantizer.quantize(t, v);
        MemorySegment off = Arena.ofAuto().allocate(heap.byteSize(), 64);
        off.copyFrom(heap);
        w = Tensors.view(t, off, (long) N * ROWS);
    }

    @Benchmark
    public float[] matvec() {
        for (int i = 0; i < ROWS; i++) out[i] = w.dot((long) i * N, x, 0, N);
        return out;
    }

    /** Decode as the forward pass runs it: {@link Parallel#matmul} of one token (prepared-vector kernels where a type has one). */
    @Benchmark
    public float[] decode() {
        Parallel.matmul(w, x, 0, N, out, 0, ROWS, 1);
        return out;
    }

    @Benchmark
    public float[] matmul4() {
        for (int i = 0; i < ROWS; i++) w.dotMany((long) i * N, N, x, 0, N, 4, out, i, ROWS);
        return out;
    }

    @Benchmark
    public float[] gemm64() {
        Parallel.matmul(w, x64, 0, N, out64, 0, ROWS, 64);
        return out64;
    }

    @Benchmark
    public float[] rows64() {
        for (int i = 0; i < ROWS; i++) w.dotMany((long) i * N, N, x64, 0, N, 64, out64, i, ROWS);
        return out64;
    }
}
