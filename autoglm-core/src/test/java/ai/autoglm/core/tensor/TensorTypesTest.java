package ai.autoglm.core.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Every supported GGML type: decoding against {@link ReferenceDecoder}, the Vector API and scalar dots against
 * a double-precision dot of {@code getFloat}, and quantize-then-dequantize error against bounds derived from
 * each format.
 */
class TensorTypesTest {

    /** Random rows with a mix of shapes: gaussian, shifted (so min != -max), tiny, all-zero and constant blocks, outliers. */
    static float[] sample(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int region = (i / 256) % 5;
            x[i] = switch (region) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (float) (r.nextGaussian() * 0.05 + 0.3);
                case 2 -> (float) (r.nextGaussian() * 1e-3);
                case 3 -> i % 256 < 64 ? 0f : (i % 256 < 128 ? 0.75f : (float) r.nextGaussian() * 3);
                default -> (float) (r.nextDouble() * 8 - 2);
            };
        }
        x[Math.min(n - 1, 300)] = 12f; // an outlier
        return x;
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizationMatchesTheIndependentReference(GgmlType type) {
        int n = 256 * 6;
        float[] x = sample(n, 11 + type.id);
        MemorySegment seg = Quantizer.quantize(type, x);
        assertThat(seg.byteSize()).isEqualTo((long) n / type.blockSize * type.typeSize);
        float[] expected = ReferenceDecoder.decode(type, bytes(seg), n);
        FloatTensor t = Tensors.view(type, seg, n);
        assertThat(t.type()).isEqualTo(type);
        assertThat(t.size()).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            if (t.getFloat(i) != expected[i]) {
                throw new AssertionError(type + " element " + i + ": getFloat " + t.getFloat(i) + " != reference " + expected[i]);
            }
        }
        // copyTo: block-aligned and unaligned starts and lengths.
        for (int[] range : new int[][]{{0, n}, {256, 512}, {5, 700}, {33, 1}, {n - 40, 40}}) {
            float[] out = new float[range[1] + 3];
            t.copyTo(range[0], out, 3, range[1]);
            for (int i = 0; i < range[1]; i++) {
                assertThat(out[3 + i]).as("%s copyTo(%d) element %d", type, range[0], i).isEqualTo(expected[range[0] + i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void vectorAndScalarDotAgreeWithGetFloat(GgmlType type) {
        // odd and even block counts and element counts around the 4-vector unroll of the decode dots (64 floats at 512 bits)
        int[] lengths = type.blockSize == 1 ? new int[]{37, 101, 128, 269} : new int[]{3 * type.blockSize, 4 * type.blockSize, 5 * type.blockSize};
        int rows = 3; // odd
        for (int len : lengths) {
            float[] w = sample(rows * len + (type.blockSize == 1 ? 0 : 0), 7 * len + type.id);
            SegmentTensor t = (SegmentTensor) Tensors.view(type, Quantizer.quantize(type, w), (long) rows * len);
            float[] x = new float[len + 9];
            Random r = new Random(len);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int row = 0; row < rows; row++) {
                // whole rows, and an unaligned window that exercises the partial head and tail blocks
                for (int[] win : new int[][]{{0, len}, {5, len - 9}}) {
                    long off = (long) row * len + win[0];
                    int n = win[1];
                    double ref = 0, abs = 0;
                    for (int i = 0; i < n; i++) {
                        double p = (double) t.getFloat(off + i) * x[7 + i];
                        ref += p;
                        abs += Math.abs(p);
                    }
                    // Recursive float summation error is at most n * 2^-24 * sum|w x| (Higham, gamma_n); the
                    // vector kernels sum in a different order, which the same bound covers.
                    double tol = n * 0x1p-24 * abs * 2 + 1e-6;
                    assertThat((double) t.dot(off, x, 7, n)).as("%s dot len %d row %d", type, len, row).isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
                    assertThat((double) t.dotScalar(off, x, 7, n)).as("%s scalar dot", type).isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
                    if (VectorSupport.ENABLED) {
                        assertThat((double) t.dotVector(off, x, 7, n)).as("%s vector dot", type).isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
                    }
                }
            }
        }
    }

    /**
     * The register-blocked row-times-several-tokens kernels ({@link FloatTensor#dotMany}) against the double-precision
     * dot of {@code getFloat}: every token count from 1 to 9 (whole passes of {@link SegmentTensor#TOKENS_PER_PASS}
     * and remainders), strided x and out, odd row lengths for the element types, and an unaligned window (the
     * fallback path). Under {@code -Dautoglm.scalar=true} the same test checks the scalar path.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dotManyAgreesWithGetFloatForEveryTokenCount(GgmlType type) {
        int len = type.blockSize == 1 ? 77 : 3 * type.blockSize;
        int rows = 3, maxTokens = 9, xStride = len + 5, outStride = 11;
        FloatTensor t = Tensors.view(type, Quantizer.quantize(type, sample(rows * len, 91 + type.id)), (long) rows * len);
        Random r = new Random(type.id);
        float[] x = new float[2 + maxTokens * xStride];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int count = 1; count <= maxTokens; count++) {
            for (int row = 0; row < rows; row++) {
                for (int[] win : new int[][]{{0, len}, {3, len - 7}}) {
                    long off = (long) row * len + win[0];
                    int n = win[1];
                    float[] out = new float[1 + count * outStride];
                    t.dotMany(off, n, x, 2, xStride, count, out, 1, outStride);
                    for (int tok = 0; tok < count; tok++) {
                        double ref = 0, abs = 0;
                        for (int i = 0; i < n; i++) {
                            double p = (double) t.getFloat(off + i) * x[2 + tok * xStride + i];
                            ref += p;
                            abs += Math.abs(p);
                        }
                        double tol = n * 0x1p-24 * abs * 2 + 1e-6; // as in the dot test above
                        assertThat((double) out[1 + tok * outStride]).as("%s dotMany count %d row %d token %d window %d", type, count, row, tok, win[0])
                                .isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
                    }
                }
            }
        }
    }

    @Test
    void vectorPathIsActiveUnlessForcedScalar() {
        assumeThat(Boolean.getBoolean("autoglm.scalar")).isFalse();
        assertThat(VectorSupport.ENABLED).as("tests run with --add-modules jdk.incubator.vector").isTrue();
    }

    /**
     * Derived per-block bounds for the symmetric/affine 32-blocks. Notation: amax = max|x| over the block,
     * range = max - min, and fp16 storage of the scale d (and min m) adds an error of at most
     * max(|d| 2^-11, 2^-25) each (relative half-ulp for normal halves, half the subnormal spacing 2^-24 below
     * 2^-14), which multiplies the largest code magnitude qmax; the 2^-25 part is the {@code qmax * 2^-25} term.
     * <ul>
     * <li>Q8_0: d = amax/127, q = round(x/d) in [-127, 127], so |x - q d| <= d/2 = amax/254; plus
     *     |q| d 2^-11 <= amax 2^-11 from d's fp16 rounding.</li>
     * <li>Q4_0: d = -max/8 (max = signed value of largest magnitude); x/d in [-8, 8], code
     *     min(15, floor(x/d + 8.5)): rounding to nearest except x = -max whose code 16 is clamped to 15, an
     *     error of one step |d| = amax/8; plus 8 |d| 2^-11 = amax 2^-11.</li>
     * <li>Q5_0: the same with 16 levels each side: amax/16 + amax 2^-11.</li>
     * <li>Q4_1: d = range/15, code round((x - min)/d) in [0, 15]: error d/2 = range/30; plus 15 d 2^-11 for
     *     d and |min| 2^-11 for m.</li>
     * <li>Q5_1: range/62 + range 2^-11 + |min| 2^-11.</li>
     * </ul>
     */
    static double legacyBound(GgmlType type, float[] x, int o) {
        float amax = 0, min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        double range = max - min, h = 0x1p-11;
        double slack = 1e-6 * Math.max(amax, 1e-30); // float rounding of the products themselves
        int qmax = switch (type) { case Q8_0 -> 127; case Q4_0 -> 8; case Q5_0 -> 16; case Q4_1 -> 15; default -> 31; };
        double subnormal = (qmax + 1) * 0x1p-25; // +1: the min m of Q4_1/Q5_1
        return slack + subnormal + switch (type) {
            case Q8_0 -> amax / 254.0 + amax * h;
            case Q4_0 -> amax / 8.0 + amax * h;
            case Q5_0 -> amax / 16.0 + amax * h;
            case Q4_1 -> range / 30.0 + range * h + Math.abs(min) * h;
            case Q5_1 -> range / 62.0 + range * h + Math.abs(min) * h;
            default -> throw new IllegalArgumentException();
        };
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void legacyQuantizationErrorIsWithinTheFormatBound(GgmlType type) {
        int n = 256 * 10;
        float[] x = sample(n, 99 + type.id);
        FloatTensor t = Tensors.view(type, Quantizer.quantize(type, x), n);
        for (int b = 0; b < n / 32; b++) {
            double bound = legacyBound(type, x, b * 32);
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                assertThat((double) Math.abs(t.getFloat(i) - x[i])).as("%s element %d (x = %s)", type, i, x[i]).isLessThanOrEqualTo(bound);
            }
        }
    }

    /**
     * K-quants choose per-sub-block scales by a search (make_qkx2_quants / make_qx_quants), so there is no
     * simple bound from the data alone; but the last step of quantize_row_q{4,5,6}_K_ref rounds every element
     * to the nearest point of its sub-block's grid (step * L - offset, L in [0, 2^bits - 1]; for Q6_K
     * step * k, k in [-32, 31]). So each error must be at most half a step when x lies within the grid's span
     * and the distance to the grid's end otherwise (plus float rounding). On top of that, the data-driven
     * search should make the error comparable to uniform rounding: for a grid spanning a sub-block's range
     * with 2^b levels the RMS error is about span / (2^b - 1) / sqrt(12); we require each super-block's RMS
     * error to be below span / (2^b - 1) / 2 (a 1.7x margin over that estimate). The span a grid must cover
     * is max - min(min, 0) for Q4_K/Q5_K (make_qkx2_quants clamps the min to <= 0) and 2 max|x| for the
     * symmetric Q6_K.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void kQuantErrorIsNearestGridPointAndSmall(GgmlType type) {
        int n = 256 * 10;
        float[] x = sample(n, 5 + type.id);
        MemorySegment seg = Quantizer.quantize(type, x);
        FloatTensor t = Tensors.view(type, seg, n);
        float[][] grid = ReferenceDecoder.kGrid(type, bytes(seg), n);
        for (int i = 0; i < n; i++) {
            float step = grid[i][0], off = grid[i][1];
            double lo, hi;
            if (type == GgmlType.Q6_K) {
                lo = Math.min(step * -32.0, step * 31.0);
                hi = Math.max(step * -32.0, step * 31.0);
            } else {
                lo = -off;
                hi = step * (double) grid[i][2] - off;
            }
            double outside = Math.max(0, Math.max(lo - x[i], x[i] - hi));
            double bound = outside + Math.abs(step) / 2 + 1e-5 * (Math.abs(x[i]) + Math.abs(step) + Math.abs(off)) + 1e-30;
            assertThat((double) Math.abs(t.getFloat(i) - x[i])).as("%s element %d x=%s step=%s off=%s", type, i, x[i], step, off)
                    .isLessThanOrEqualTo(bound);
        }
        int bits = type == GgmlType.Q4_K ? 4 : type == GgmlType.Q5_K ? 5 : 6;
        for (int b = 0; b < n / 256; b++) {
            double sq = 0;
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < 256; j++) {
                int i = b * 256 + j;
                sq += Math.pow(t.getFloat(i) - x[i], 2);
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
            }
            double rms = Math.sqrt(sq / 256);
            double span = type == GgmlType.Q6_K ? 2.0 * Math.max(max, -min) : max - Math.min(min, 0);
            assertThat(rms).as("%s super-block %d RMS error", type, b).isLessThanOrEqualTo(span / ((1 << bits) - 1) / 2.0 + 1e-9);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void floatConversionsRoundToNearest(GgmlType type) {
        float[] x = sample(1000, 3);
        x[0] = 1e-6f;  // an F16 subnormal
        x[1] = -0.0f;
        x[2] = 70000f; // beyond F16 max: Inf
        FloatTensor t = Tensors.view(type, Quantizer.quantize(type, x), x.length);
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs((double) t.getFloat(i) - x[i]);
            switch (type) {
                case F32 -> assertThat(t.getFloat(i)).isEqualTo(x[i]);
                // binary16: 11 significant bits, unit roundoff 2^-11; below 2^-14 fixed spacing 2^-24.
                case F16 -> {
                    if (i == 2) assertThat(t.getFloat(i)).isEqualTo(Float.POSITIVE_INFINITY);
                    else assertThat(err).isLessThanOrEqualTo(Math.abs(x[i]) * 0x1p-11 + 0x1p-25);
                }
                // bfloat16: 8 significant bits, unit roundoff 2^-8.
                default -> assertThat(err).isLessThanOrEqualTo(Math.abs(x[i]) * 0x1p-8);
            }
        }
    }

    @Test
    void halfConversionMatchesTheBitLevelDefinitionForAllHalves() {
        // The F16 vector kernel converts by bit tricks: check every one of the 65536 halves through dot.
        byte[] b = new byte[65536 * 2];
        for (int h = 0; h < 65536; h++) {
            b[2 * h] = (byte) h;
            b[2 * h + 1] = (byte) (h >> 8);
        }
        SegmentTensor t = (SegmentTensor) Tensors.view(GgmlType.F16, MemorySegment.ofArray(b), 65536);
        float[] one = {1f};
        for (int h = 0; h < 65536; h++) {
            float expected = ReferenceDecoder.halfToFloat(h);
            if (Float.compare(t.getFloat(h), expected) != 0) throw new AssertionError("half " + h + ": " + t.getFloat(h) + " != " + expected);
        }
        if (VectorSupport.ENABLED) {
            // One half at lane k of a 16-wide row of zeros, dotted with e_k: the vector kernel's conversion alone
            // (Inf/NaN in other lanes would turn 0 * Inf into NaN).
            byte[] row = new byte[32];
            SegmentTensor one16 = (SegmentTensor) Tensors.view(GgmlType.F16, MemorySegment.ofArray(row), 16);
            float[] x = new float[16];
            for (int h = 0; h < 65536; h++) {
                int k = h % 16;
                java.util.Arrays.fill(row, (byte) 0);
                row[2 * k] = (byte) h;
                row[2 * k + 1] = (byte) (h >> 8);
                java.util.Arrays.fill(x, 0f);
                x[k] = 1f;
                float expected = ReferenceDecoder.halfToFloat(h);
                float got = one16.dotVector(0, x, 0, 16);
                boolean same = Float.isNaN(expected) ? Float.isNaN(got) : got == expected;
                if (!same) throw new AssertionError(String.format("vector half 0x%04x: %s != %s", h, got, expected));
            }
        }
        assertThat(one[0]).isEqualTo(1f);
    }

    @Test
    void finiteHalfConversionOfTheDecodeKernelIsExactForEveryFiniteHalf() {
        assumeThat(VectorSupport.ENABLED).isTrue();
        // Row h holds half h (all 63488 finite ones) at lane h % 16 and zeros elsewhere; x = e_k picks lane k.
        int[] halves = java.util.stream.IntStream.range(0, 65536).filter(h -> (h & 0x7C00) != 0x7C00).toArray();
        byte[] b = new byte[halves.length * 32];
        for (int r = 0; r < halves.length; r++) {
            int at = r * 32 + 2 * (r % 16);
            b[at] = (byte) halves[r];
            b[at + 1] = (byte) (halves[r] >> 8);
        }
        FloatTensor t = Tensors.view(GgmlType.F16, MemorySegment.ofArray(b), (long) halves.length * 16);
        PreparedVector v = new PreparedVector();
        for (int k = 0; k < 16; k++) {
            float[] x = new float[16];
            x[k] = 1f;
            assertThat(t.prepare(x, 0, 16, v)).as("finite F16 takes the prepared kernel").isTrue();
            for (int r = k; r < halves.length; r += 16) {
                float got = t.dotPrepared(r * 16L, v), expected = ReferenceDecoder.halfToFloat(halves[r]);
                if (Float.compare(got, expected) != 0 && !(got == 0f && expected == 0f)) {
                    throw new AssertionError(String.format("half 0x%04x: %s != %s", halves[r], got, expected));
                }
            }
        }
        // One Inf anywhere: the tensor keeps the exact conversion (prepare declines, callers use dot).
        b[b.length - 1] = (byte) 0x7C;
        b[b.length - 2] = 0;
        assertThat(Tensors.view(GgmlType.F16, MemorySegment.ofArray(b), (long) halves.length * 16).prepare(new float[16], 0, 16, v)).isFalse();
    }

    @Test
    void viewChecksSizes() {
        MemorySegment seg = MemorySegment.ofArray(new byte[34]);
        assertThatThrownBy(() -> Tensors.view(GgmlType.Q8_0, seg, 64)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 68 bytes");
        assertThatThrownBy(() -> Tensors.view(GgmlType.Q8_0, seg, 31)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> Tensors.view(GgmlType.Q8_K, MemorySegment.ofArray(new byte[292]), 256)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_K");
        assertThatThrownBy(() -> Quantizer.quantize(GgmlType.Q8_0, new float[]{Float.NaN})).isInstanceOf(IllegalArgumentException.class);
    }
}
