package ai.autoglm.bench;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The native kernel library ({@link NativeKernels}) against the pure-Java kernels, for every weight type the library
 * has, through {@link Parallel#matmul} as the forward pass calls it, one thread: {@code kernels=java} is
 * {@code --kernels java} (today's Java path: prepared-vector decode, small-batch GEMM, panel GEMM), {@code native}
 * is {@code --kernels native} (the library's variant for this CPU, or {@code -Dautoglm.native.isa=avx2} etc. in
 * {@code jvmArgsAppend} via JMH's {@code -jvmArgsAppend}). Sizes: 1 token (decode), 4 tokens (batched decode) and
 * 64 tokens (prefill: the native path only for F16; quantized types take the Java panel GEMM from 13 tokens on in
 * both modes, so their two 64-token scores are the same code).
 *
 * <p>Weights: 2048 x 2048 (a 1B model's attention projection) for the kernel speed ({@code rows=2048}, in L2/L3),
 * and 8192 x 2048 x 8 matrices cycled ({@code rows=8192}: 32-128 MB per pass, larger than the caches) for the memory
 * side of decode. Score: products per second; GMAC/s = score * rows * 2048 * tokens / 1e9.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// Warm-up 5 x 2 s: the Java small-batch path (4 tokens) ran 0.2, 1.2, 109, 123 ops/s in its first four 2-second
// iterations on F16 (interpreted and C1 Vector API code boxes every vector) and only then reached C2's speed.
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class NativeKernelBenchmarks {
    static final int N = 2048;

    @Param({"F16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"java", "native"})
    public String kernels;

    @Param({"2048"})
    public int rows;

    private FloatTensor[] w;
    private int next;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        if (kernels.equals("native") && !NativeKernels.supports(t)) {
            throw new IllegalStateException("native kernels unavailable for " + t + ": " + NativeKernels.loadError());
        }
        KernelChoice.set(KernelChoice.parse(kernels));
        ComputeThreads.set(1);
        SplittableRandom r = new SplittableRandom(42);
        int matrices = rows > 2048 ? 8 : 1;
        w = new FloatTensor[matrices];
        float[] v = new float[N * rows];
        for (int m = 0; m < matrices; m++) {
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
            MemorySegment heap = Quantizer.quantize(t, v);
            MemorySegment off = Arena.ofAuto().allocate(heap.byteSize(), 64);
            off.copyFrom(heap);
            w[m] = Tensors.view(t, off, (long) N * rows);
        }
        x = new float[64 * N];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        out = new float[64 * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        KernelChoice.set(KernelChoice.Mode.AUTO);
    }

    private FloatTensor nextMatrix() {
        FloatTensor m = w[next];
        next = (next + 1) % w.length;
        return m;
    }

    @Benchmark
    public float[] tokens1() {
        Parallel.matmul(nextMatrix(), x, 0, N, out, 0, rows, 1);
        return out;
    }

    @Benchmark
    public float[] tokens4() {
        Parallel.matmul(nextMatrix(), x, 0, N, out, 0, rows, 4);
        return out;
    }

    @Benchmark
    public float[] tokens64() {
        Parallel.matmul(nextMatrix(), x, 0, N, out, 0, rows, 64);
        return out;
    }
}
