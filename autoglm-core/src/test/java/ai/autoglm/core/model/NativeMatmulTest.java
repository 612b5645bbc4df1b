package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.ReferenceDecoder;
import ai.autoglm.core.tensor.Tensors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The native kernels ({@link NativeKernels}, through {@link Parallel#matmul}) against the scalar reference decoder
 * ({@link ReferenceDecoder}, transcribed from ggml's dequantize_row_*), for every type the library has, every ISA
 * variant this CPU runs (portable C, AVX2, AVX-VNNI, AVX512-VNNI), 1 and 3 threads, 1 to 12 tokens (the one-token and the four-token kernels with their remainders), an odd row count,
 * rows of 1 to 8 blocks, offsets into x and out, on quantized weights and on random block bytes (every scale bit).
 *
 * <p>Two checks per output: (1) against the double-precision product of the reference weights with x quantized to
 * 8 bits exactly as the library specifies (d = max|x|/127 per block, round half to even), within float rounding
 * of the kernel's accumulation: a wrong nibble, scale, min or offset anywhere fails this; (2) against the product
 * with the float x, within the bound that 8-bit activations imply, sum |w_i| d_block / 2 (llama.cpp quantizes
 * activations the same way: Q8_0 / Q8_K blocks).
 */
class NativeMatmulTest {
    private final int threadsBefore = ComputeThreads.count();
    private final KernelChoice.Mode modeBefore = KernelChoice.mode();
    private final String isaBefore = NativeKernels.isa();
    private final boolean packedBefore = PackedWeights.enabled();

    @AfterEach
    void restore() {
        ComputeThreads.set(threadsBefore);
        KernelChoice.set(modeBefore);
        if (NativeKernels.loaded()) NativeKernels.selectIsa(isaBefore);
        PackedWeights.enable(packedBefore);
    }

    private static boolean packedType(GgmlType t) {
        return t == GgmlType.Q4_0 || t == GgmlType.Q8_0;
    }

    /**
     * The row-interleaved Q4_0 / Q8_0 kernels ({@link PackedWeights}): every token count 1..70 (the one-token kernel, the
     * GEMM's 8- and 4-token tiles and every remainder), row counts that are not a multiple of the 8-row group (1, 7, 9,
     * 37) and one that is (16), 1 and 3 threads, every ISA variant, against the reference decoder.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0"})
    void packedKernelsAgreeWithTheReferenceDecoderForEveryTokenCount(GgmlType type) {
        if (!NativeKernels.loaded()) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but the native library did not load: " + NativeKernels.loadError());
            Assumptions.abort("native library not loaded: " + NativeKernels.loadError());
        }
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        PackedWeights.enable(true);
        List<String> ran = new ArrayList<>();
        Random r = new Random(77 + type.id);
        for (String isa : NativeKernels.ISA_NAMES) {
            if (!NativeKernels.selectIsa(isa)) continue;
            ran.add(isa);
            for (int d : new int[]{1, 7, 9, 16, 37}) {
                int n = (d % 3 + 2) * 32; // 2 to 4 blocks: the count loop below dominates
                byte[] bytes = weights(type, n, d, d % 2 == 1, r);
                FloatTensor w = Tensors.view(type, MemorySegment.ofArray(bytes), (long) d * n);
                float[] ref = ReferenceDecoder.decode(type, bytes, d * n);
                float[] mag = magnitudes(type, bytes, d * n, ref);
                assertThat(PackedWeights.applies(w, n, d)).isTrue();
                for (int threads : new int[]{1, 3}) {
                    ComputeThreads.set(threads);
                    for (int count = 1; count <= 70; count += (threads == 1 ? 1 : 3)) check(type, isa + " packed", w, ref, mag, n, d, count, r);
                }
            }
        }
        assertThat(ran).as("variants run").contains("c", isaBefore);
    }

    /** Where the build had a C compiler, the library must have loaded; under CI=true a missing compiler is an error. */
    @Test
    void libraryLoadsWhereACompilerBuiltIt() {
        boolean compiler = onPath("cc") || onPath("gcc") || onPath("clang");
        if (!compiler) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but no C compiler (cc/gcc/clang): .ci/run installs gcc; the native kernels could not be built");
            Assumptions.abort("no C compiler: the native kernel library is not built here (pure-Java kernels)");
        }
        assertThat(NativeKernels.loaded()).as("native library loaded (%s)", NativeKernels.loadError()).isTrue();
        assertThat(NativeKernels.isa()).isIn((Object[]) NativeKernels.ISA_NAMES);
    }

    @Test
    void javaModeNeverRunsTheNativeKernels() {
        KernelChoice.set(KernelChoice.Mode.JAVA);
        for (GgmlType t : GgmlType.values()) assertThat(KernelChoice.nativeFor(t)).isFalse();
        assertThat(KernelChoice.describe(GgmlType.Q4_K)).doesNotContain("native");
    }

    @Test
    void badModeIsOneClearError() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KernelChoice.parse("fast"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auto, java or native");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void everyVariantAgreesWithTheReferenceDecoder(GgmlType type) {
        if (!NativeKernels.loaded()) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but the native library did not load: " + NativeKernels.loadError());
            Assumptions.abort("native library not loaded: " + NativeKernels.loadError());
        }
        assertThat(NativeKernels.supports(type)).isTrue();
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        List<String> ran = new ArrayList<>();
        Random r = new Random(31 + type.id);
        for (String isa : NativeKernels.ISA_NAMES) {
            if (!NativeKernels.selectIsa(isa)) continue;
            ran.add(isa);
            for (int blocks : new int[]{1, 3, 8}) {
                int n = blocks * type.blockSize, d = 37;
                for (boolean randomBytes : new boolean[]{false, true}) {
                    byte[] bytes = weights(type, n, d, randomBytes, r);
                    FloatTensor w = Tensors.view(type, MemorySegment.ofArray(bytes), (long) d * n);
                    float[] ref = ReferenceDecoder.decode(type, bytes, d * n);
                    float[] mag = magnitudes(type, bytes, d * n, ref);
                    for (int threads : new int[]{1, 3}) {
                        ComputeThreads.set(threads);
                        for (int count : new int[]{1, 2, 5, 7, 12}) {
                            check(type, isa, w, ref, mag, n, d, count, r);
                        }
                    }
                    if (packedType(type)) { // the same products through the in-place kernels (packing off)
                        PackedWeights.enable(false);
                        try {
                            FloatTensor w2 = Tensors.view(type, MemorySegment.ofArray(bytes), (long) d * n);
                            for (int count : new int[]{1, 5}) check(type, isa + " unpacked", w2, ref, mag, n, d, count, r);
                        } finally {
                            PackedWeights.enable(packedBefore);
                        }
                    }
                }
            }
        }
        assertThat(ran).as("variants run").contains("c", isaBefore);
    }

    private static byte[] weights(GgmlType type, int n, int d, boolean randomBytes, Random r) {
        if (!randomBytes) {
            float[] v = new float[d * n];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.05);
            return Quantizer.quantize(type, v).toArray(ValueLayout.JAVA_BYTE);
        }
        byte[] b = new byte[(int) type.bytesFor((long) d * n)];
        r.nextBytes(b);
        int[] halves = switch (type) {
            case Q4_0, Q8_0 -> new int[]{0};
            case Q4_K, Q5_K -> new int[]{0, 2};
            case Q6_K -> new int[]{208};
            default -> throw new IllegalArgumentException(type.toString());
        };
        for (int blk = 0; blk < b.length / type.typeSize; blk++) {
            for (int a : halves) {
                short h = Float.floatToFloat16((float) (r.nextGaussian() * 0.01));
                b[blk * type.typeSize + a] = (byte) h;
                b[blk * type.typeSize + a + 1] = (byte) (h >> 8);
            }
        }
        return b;
    }

    /**
     * Per element, a bound on the magnitude of every term the kernel adds for it (the decoded weight, and the
     * offset it applies separately: Q4_0's 8 d, a K-quant's unsigned level times its step and its min), for the
     * float-rounding tolerance of check (1).
     */
    private static float[] magnitudes(GgmlType type, byte[] b, int count, float[] ref) {
        float[] m = new float[count];
        switch (type) {
            case Q8_0 -> { // the packed kernels store q + 128 and subtract 128 d through the block sum of x
                for (int i = 0; i < count; i++) {
                    int o = (i / 32) * 34;
                    m[i] = Math.abs(ref[i]) + 128 * Math.abs(Float.float16ToFloat((short) ((b[o] & 0xFF) | (b[o + 1] << 8))));
                }
            }
            case Q4_0 -> {
                for (int i = 0; i < count; i++) {
                    int o = (i / 32) * 18;
                    float dd = Math.abs(Float.float16ToFloat((short) ((b[o] & 0xFF) | (b[o + 1] << 8))));
                    m[i] = 23 * dd;
                }
            }
            case Q4_K, Q5_K -> {
                float[][] g = ReferenceDecoder.kGrid(type, b, count);
                for (int i = 0; i < count; i++) m[i] = Math.abs(g[i][0]) * g[i][2] + Math.abs(g[i][1]);
            }
            case Q6_K -> {
                float[][] g = ReferenceDecoder.kGrid(type, b, count);
                for (int i = 0; i < count; i++) m[i] = Math.abs(g[i][0]) * 95;
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        return m;
    }

    private static void check(GgmlType type, String isa, FloatTensor w, float[] ref, float[] mag, int n, int d, int count, Random r) {
        int xOff = 3, outOff = 5, bs = type.blockSize == 32 ? 32 : 256;
        float[] x = new float[xOff + count * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * (r.nextInt(20) == 0 ? 8 : 1));
        float[] out = new float[outOff + count * d + 2];
        out[outOff + count * d] = 42f;
        Parallel.matmul(w, x, xOff, n, out, outOff, d, count);
        for (int t = 0; t < count; t++) {
            // x quantized as the library specifies (agk_quantize): d = amax / 127, q = rint(x * (127 / amax)).
            double[] xq = new double[n];
            double[] halfStep = new double[n];
            for (int b0 = 0; b0 < n; b0 += bs) {
                float amax = 0f;
                for (int i = 0; i < bs; i++) amax = Math.max(amax, Math.abs(x[xOff + t * n + b0 + i]));
                float dx = amax / 127f, id = amax > 0 ? 127f / amax : 0f;
                for (int i = 0; i < bs; i++) {
                    xq[b0 + i] = (double) dx * Math.rint(x[xOff + t * n + b0 + i] * id);
                    halfStep[b0 + i] = dx / 2.0;
                }
            }
            for (int row = 0; row < d; row++) {
                double exactQ = 0, exactX = 0, scale = 0, qBound = 0;
                for (int k = 0; k < n; k++) {
                    double wk = ref[row * n + k];
                    exactQ += wk * xq[k];
                    exactX += wk * x[xOff + t * n + k];
                    scale += mag[row * n + k] * Math.abs(xq[k]);
                    qBound += Math.abs(wk) * halfStep[k];
                }
                double got = out[outOff + t * d + row];
                double tol = (n / 16.0 + 32) * 0x1p-24 * scale * 2 + 1e-6;
                assertThat(got).as("%s %s count %d token %d row %d: against 8-bit x", type, isa, count, t, row)
                        .isCloseTo(exactQ, org.assertj.core.api.Assertions.offset(tol));
                assertThat(got).as("%s %s count %d token %d row %d: against float x", type, isa, count, t, row)
                        .isCloseTo(exactX, org.assertj.core.api.Assertions.offset(tol + qBound * 1.0001));
            }
        }
        assertThat(out[outOff + count * d]).as("nothing written past the result").isEqualTo(42f);
        assertThat(out[outOff - 1]).as("nothing written before the result").isEqualTo(0f);
    }

    private static boolean onPath(String cmd) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, cmd))) return true;
        }
        return false;
    }
}
