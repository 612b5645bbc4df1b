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

    /**
     * The K-quant GEMM (prefill, {@link NativeKernels#gemm}) the same way: every K-quant type (Q2_K and Q3_K on random
     * block bytes, including their few-token row-by-row kernels), every variant (avx512vnni with and without AMX),
     * 1 to 70 tokens (through {@link Parallel#matmul} on 1 and 3 threads from the GEMM's threshold on, below it by
     * direct calls), row counts that leave a partial 16-row panel, rows of 1, 3 and 8 blocks.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void everyGemmVariantAgreesWithTheReferenceDecoder(GgmlType type) {
        if (!NativeKernels.loaded()) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but the native library did not load: " + NativeKernels.loadError());
            Assumptions.abort("native library not loaded: " + NativeKernels.loadError());
        }
        assertThat(NativeKernels.supportsGemm(type)).isTrue();
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        List<String> ran = new ArrayList<>();
        Random r = new Random(77 + type.id);
        boolean lowBit = type == GgmlType.Q2_K || type == GgmlType.Q3_K;
        // AMX is a sub-variant of avx512vnni's GEMM: run that variant with and without it where the CPU has it.
        boolean amx = NativeKernels.gemmAmx(true);
        List<String> variants = new ArrayList<>(List.of(NativeKernels.ISA_NAMES));
        if (amx) variants.add("avx512vnni+amx");
        try {
            for (String variant : variants) {
                String isa = variant.replace("+amx", "");
                if (!NativeKernels.selectIsa(isa)) continue;
                NativeKernels.gemmAmx(variant.endsWith("+amx"));
                ran.add(variant);
                gemmVariant(type, variant, lowBit, r);
            }
        } finally {
            NativeKernels.gemmAmx(true);
        }
        assertThat(ran).as("variants run").contains("c", isaBefore);
    }

    private void gemmVariant(GgmlType type, String isa, boolean lowBit, Random r) {
        {
            for (int blocks : new int[]{1, 3, 8}) {
                int n = blocks * type.blockSize, d = blocks == 3 ? 37 : 21;
                for (boolean randomBytes : lowBit ? new boolean[]{true} : new boolean[]{false, true}) {
                    byte[] bytes = weights(type, n, d, randomBytes, r);
                    FloatTensor w = Tensors.view(type, MemorySegment.ofArray(bytes), (long) d * n);
                    float[] ref = ReferenceDecoder.decode(type, bytes, d * n);
                    float[] mag = magnitudes(type, bytes, d * n, ref);
                    for (int count = 1; count <= 70; count += blocks == 1 ? 1 : 5) {
                        // Q2_K and Q3_K take the library from one token on (row by row below 4 tokens, kq_small)
                        boolean direct = count < 8 && !lowBit;
                        for (int threads : direct ? new int[]{1} : new int[]{1, 3}) {
                            ComputeThreads.set(threads);
                            check(type, isa, w, ref, mag, n, d, count, r, direct);
                        }
                    }
                }
            }
        }
    }

    /** Parallel.matmul's GEMM path by hand (quantize, then two row ranges), for token counts below its threshold. */
    private static void directGemm(FloatTensor w, float[] x, int xOff, int n, float[] out, int outOff, int d, int count) {
        long stride = NativeKernels.quantizedBytes(w.type(), n);
        MemorySegment xq = java.lang.foreign.Arena.ofAuto().allocate(stride * count, 64);
        NativeKernels.quantize(w.type(), x, xOff, n, count, xq, stride);
        int mid = Math.min(d, 16);
        NativeKernels.gemm((ai.autoglm.core.tensor.SegmentTensor) w, n, xq, stride, count, out, outOff, d, 0, mid);
        if (mid < d) NativeKernels.gemm((ai.autoglm.core.tensor.SegmentTensor) w, n, xq, stride, count, out, outOff, d, mid, d);
    }

    /**
     * F16 weights times float activations (kernels_f16.inc), every variant this CPU runs: widths with every tail of the
     * 16- and 8-element vectors, 1 to 70 tokens (the 4-, 3-, 2- and 1-token groups and their remainders) straight
     * through {@link NativeKernels#matmul} on row ranges that start and end off the 8- and 4-row groups, and 1 to 40
     * tokens through {@link Parallel#matmul} (decode and prefill: F16 prefill takes the native kernel too) on 1 and 3 threads; against the double-precision product of the decoded
     * halves ({@link ReferenceDecoder}) within float summation error.
     */
    @Test
    void f16EveryVariantAgreesWithTheDoublePrecisionProduct() {
        requireLibrary();
        assertThat(NativeKernels.supports(GgmlType.F16)).isTrue();
        assertThat(NativeKernels.floatActivations(GgmlType.F16)).isTrue();
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        List<String> ran = new ArrayList<>();
        Random r = new Random(1601);
        for (String isa : NativeKernels.ISA_NAMES) {
            if (!NativeKernels.selectIsa(isa)) continue;
            ran.add(isa);
            for (int n : new int[]{1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 100, 257}) {
                int d = 37;
                float[] values = new float[d * n];
                for (int i = 0; i < values.length; i++) values[i] = (float) r.nextGaussian();
                byte[] bytes = Quantizer.quantize(GgmlType.F16, values).toArray(ValueLayout.JAVA_BYTE);
                float[] ref = ReferenceDecoder.decode(GgmlType.F16, bytes, d * n);
                FloatTensor w = Tensors.view(GgmlType.F16, MemorySegment.ofArray(bytes), (long) d * n);
                int[] counts = n == 100 ? java.util.stream.IntStream.rangeClosed(1, 70).toArray() : new int[]{1, 2, 3, 4, 5, 6, 7, 11, 13};
                for (int count : counts) {
                    for (int[] range : new int[][]{{0, d}, {3, 30}, {9, 10}}) checkF16Direct(isa, w, ref, n, d, count, range[0], range[1], r);
                }
                for (int threads : new int[]{1, 3}) {
                    ComputeThreads.set(threads);
                    for (int count : new int[]{1, 2, 5, 12, 13, 40}) checkF16(isa, w, ref, n, d, count, r);
                }
            }
        }
        assertThat(ran).as("variants run").contains("c", isaBefore);
    }

    /** Inf and NaN weights reach the output of every F16 variant exactly as the Java F16 kernels (MatmulTest) have them. */
    @Test
    void f16InfAndNanPropagateAsTheJavaKernels() {
        requireLibrary();
        int n = 70, d = 9;
        float[] values = new float[d * n];
        java.util.Arrays.fill(values, 0.5f);
        values[n + 5] = Float.POSITIVE_INFINITY;
        values[2 * n + 69] = Float.NaN; // in the AVX-512 masked tail
        values[3 * n + 1] = Float.NEGATIVE_INFINITY;
        values[4 * n + 2] = Float.POSITIVE_INFINITY;
        values[4 * n + 3] = Float.NEGATIVE_INFINITY;
        values[8 * n + 68] = Float.NEGATIVE_INFINITY; // the row after the 8-row group, in the tail
        FloatTensor w = Tensors.view(GgmlType.F16, Quantizer.quantize(GgmlType.F16, values), (long) d * n);
        float[] x = new float[2 * n];
        java.util.Arrays.fill(x, 1f);
        x[n + 1] = -2f;
        KernelChoice.set(KernelChoice.Mode.JAVA);
        float[] java = new float[2 * d];
        Parallel.matmul(w, x, 0, n, java, 0, d, 2);
        assertThat(java[1]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(java[2]).isNaN();
        assertThat(java[d + 3]).isEqualTo(Float.POSITIVE_INFINITY); // -Inf * -2
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        for (String isa : NativeKernels.ISA_NAMES) {
            if (!NativeKernels.selectIsa(isa)) continue;
            for (int count : new int[]{1, 2}) {
                float[] out = new float[count * d];
                Parallel.matmul(w, x, 0, n, out, 0, d, count);
                for (int i = 0; i < out.length; i++) {
                    if (Float.isFinite(java[i])) assertThat(out[i]).as("%s %d", isa, i).isCloseTo(java[i], org.assertj.core.api.Assertions.offset(1e-4f));
                    else if (Float.isNaN(java[i])) assertThat(out[i]).as("%s %d", isa, i).isNaN();
                    else assertThat(out[i]).as("%s %d", isa, i).isEqualTo(java[i]);
                }
            }
        }
    }

    private static void requireLibrary() {
        if (!NativeKernels.loaded()) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but the native library did not load: " + NativeKernels.loadError());
            Assumptions.abort("native library not loaded: " + NativeKernels.loadError());
        }
    }

    /** Rows [r0, r1) of count tokens straight through the library (any token count, not only the decode path's). */
    private static void checkF16Direct(String isa, FloatTensor w, float[] ref, int n, int d, int count, int r0, int r1, Random r) {
        int xOff = 3, outOff = 5;
        float[] x = new float[xOff + count * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] out = new float[outOff + count * d + 2];
        java.util.Arrays.fill(out, 42f);
        MemorySegment xs = MemorySegment.ofArray(x).asSlice(4L * xOff, 4L * n * count);
        NativeKernels.matmul((ai.autoglm.core.tensor.SegmentTensor) w, n, xs, 4L * n, count, out, outOff, d, r0, r1);
        for (int t = 0; t < count; t++) {
            for (int row = 0; row < d; row++) {
                double got = out[outOff + t * d + row];
                if (row < r0 || row >= r1) {
                    assertThat(got).as("%s row %d outside [%d, %d) untouched", isa, row, r0, r1).isEqualTo(42.0);
                    continue;
                }
                expectF16(isa, ref, x, xOff, n, count, t, row, got);
            }
        }
        assertThat(out[outOff - 1]).isEqualTo(42f);
        assertThat(out[outOff + count * d]).isEqualTo(42f);
    }

    private static void checkF16(String isa, FloatTensor w, float[] ref, int n, int d, int count, Random r) {
        int xOff = 3, outOff = 5;
        float[] x = new float[xOff + count * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] out = new float[outOff + count * d + 2];
        out[outOff + count * d] = 42f;
        Parallel.matmul(w, x, xOff, n, out, outOff, d, count);
        for (int t = 0; t < count; t++) {
            for (int row = 0; row < d; row++) expectF16(isa, ref, x, xOff, n, count, t, row, out[outOff + t * d + row]);
        }
        assertThat(out[outOff + count * d]).as("nothing written past the result").isEqualTo(42f);
        assertThat(out[outOff - 1]).as("nothing written before the result").isEqualTo(0f);
    }

    private static void expectF16(String isa, float[] ref, float[] x, int xOff, int n, int count, int t, int row, double got) {
        double exact = 0, abs = 0;
        for (int k = 0; k < n; k++) {
            double p = (double) ref[row * n + k] * x[xOff + t * n + k];
            exact += p;
            abs += Math.abs(p);
        }
        // Float summation in any order is within n * 2^-24 * sum|w x| (Higham's gamma_n bound).
        double tol = n * 0x1p-24 * abs * 2 + 1e-6;
        assertThat(got).as("F16 %s count %d token %d row %d", isa, count, t, row).isCloseTo(exact, org.assertj.core.api.Assertions.offset(tol));
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
            case Q3_K -> new int[]{108};
            case Q2_K -> new int[]{80, 82};
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
            case Q2_K -> { // d * (sc & 15) * level (level <= 3), dmin * (sc >> 4) separately
                for (int i = 0; i < count; i++) {
                    int o = (i / 256) * 84, sc = b[o + (i % 256) / 16] & 0xFF;
                    float dd = Math.abs(Float.float16ToFloat((short) ((b[o + 80] & 0xFF) | (b[o + 81] << 8))));
                    float dm = Math.abs(Float.float16ToFloat((short) ((b[o + 82] & 0xFF) | (b[o + 83] << 8))));
                    m[i] = dd * (sc & 15) * 3 + dm * (sc >> 4);
                }
            }
            case Q3_K -> { // |d * (sc - 32)| <= 32 |d|, times the level (<= 7) and the offset 4 separately
                for (int i = 0; i < count; i++) {
                    int o = (i / 256) * 110;
                    m[i] = Math.abs(Float.float16ToFloat((short) ((b[o + 108] & 0xFF) | (b[o + 109] << 8)))) * 32 * 11;
                }
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        return m;
    }

    private static void check(GgmlType type, String isa, FloatTensor w, float[] ref, float[] mag, int n, int d, int count, Random r) {
        check(type, isa, w, ref, mag, n, d, count, r, false);
    }

    private static void check(GgmlType type, String isa, FloatTensor w, float[] ref, float[] mag, int n, int d, int count, Random r,
                              boolean directGemm) {
        int xOff = 3, outOff = 5, bs = type.blockSize == 32 ? 32 : 256;
        float[] x = new float[xOff + count * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * (r.nextInt(20) == 0 ? 8 : 1));
        float[] out = new float[outOff + count * d + 2];
        out[outOff + count * d] = 42f;
        if (directGemm) directGemm(w, x, xOff, n, out, outOff, d, count);
        else Parallel.matmul(w, x, xOff, n, out, outOff, d, count);
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
