package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Writer -> reader round trips, with F16/BF16 rounding checked against an independent nearest-value search. */
class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    /** Values that exercise rounding: random normals, ties, subnormals, overflow, specials. */
    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (i % 8) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> (float) (r.nextGaussian() * 1e-6);       // f16 subnormal range
                case 2 -> (float) (r.nextGaussian() * 7e4);        // around f16 overflow
                case 3 -> Float.intBitsToFloat(r.nextInt());       // any bit pattern (NaN, inf, tiny, huge)
                case 4 -> Float.intBitsToFloat((r.nextInt() & 0xFFFF0000) | 0x8000); // exact bf16 ties
                case 5 -> Float.intBitsToFloat((r.nextInt() & 0xFFFFE000) | 0x1000 & 0xFFFFFFFF); // f16-ish ties
                case 6 -> (float) r.nextGaussian() * 1e-30f;
                default -> r.nextFloat() * 2 - 1;
            };
        }
        v[0] = 0f;
        v[8] = -0f;
        v[16] = Float.POSITIVE_INFINITY;
        v[24] = Float.NEGATIVE_INFINITY;
        v[32] = Float.NaN;
        v[40] = 65504f;       // f16 max
        v[48] = 65520f;       // halfway between f16 max and 2^16: ties to even -> inf
        return v;
    }

    @Test
    void roundTripsAllThreeDtypes() {
        int rows = 7, cols = 24;
        float[] a = values(rows * cols, 1);
        float[] b = values(rows * cols, 2);
        float[] c = values(rows * cols, 3);
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .putMetadata("format", "pt")
                .add("a.f32", new long[]{rows, cols}, "F32", a)
                .add("b.f16", new long[]{rows, cols}, "F16", b)
                .add("c.bf16", new long[]{rows, 2, cols / 2}, "BF16", c)
                .add("scalar", new long[]{}, "F32", new float[]{42f})
                .add("empty", new long[]{0, 5}, "F16", new float[0])
                .write(file);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors().keySet()).containsExactly("a.f32", "b.f16", "c.bf16", "scalar", "empty");
            assertThat(f.info("c.bf16").shape()).containsExactly(rows, 2, cols / 2);
            assertThat(f.info("b.f16").dtype()).isEqualTo("F16");

            FloatTensor ta = f.tensor("a.f32");
            assertThat(ta.type()).isEqualTo(GgmlType.F32);
            assertThat(ta.size()).isEqualTo(rows * cols);
            for (int i = 0; i < a.length; i++) {
                assertThat(Float.floatToRawIntBits(ta.getFloat(i))).isEqualTo(Float.floatToRawIntBits(a[i]));
            }
            FloatTensor tb = f.tensor("b.f16");
            assertThat(tb.type()).isEqualTo(GgmlType.F16);
            for (int i = 0; i < b.length; i++) {
                assertSame(tb.getFloat(i), HalfFloatReference.nearestF16(b[i]), "f16 of " + b[i]);
            }
            FloatTensor tc = f.tensor("c.bf16");
            assertThat(tc.type()).isEqualTo(GgmlType.BF16);
            for (int i = 0; i < c.length; i++) {
                assertSame(tc.getFloat(i), HalfFloatReference.nearestBf16(c[i]), "bf16 of " + c[i]);
            }
            assertThat(f.tensor("scalar").getFloat(0)).isEqualTo(42f);
            assertThat(f.tensor("empty").size()).isZero();
            assertThat(f.tensor("missing")).isNull();
        }
    }

    @Test
    void headerIsPaddedToEightBytesAndWriteLeavesNoTempFile() throws Exception {
        Path file = dir.resolve("p.safetensors");
        new SafetensorsWriter().add("x", new long[]{3}, "F32", new float[]{1, 2, 3}).write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).isZero();
        assertThat(bytes.length).isEqualTo(8 + n + 12);
        try (var list = Files.list(dir)) {
            assertThat(list.map(p -> p.getFileName().toString())).containsExactly("p.safetensors");
        }
    }

    private static void assertSame(float actual, double expected, String what) {
        if (Double.isNaN(expected)) {
            assertThat(Float.isNaN(actual)).as(what).isTrue();
        } else {
            assertThat((double) actual).as(what).isEqualTo(expected);
            if (expected == 0) {
                assertThat(Math.copySign(1f, actual)).as(what + " sign").isEqualTo((float) Math.copySign(1.0, expected));
            }
        }
    }
}
