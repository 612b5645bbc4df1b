package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded random-mutation test of {@link GgufFile#open} (the stand-in for coverage-guided fuzzing, which
 * Jazzer cannot do on JDK 25 class files; see {@link GgufFuzzTest}). Valid files written by {@link GgufWriter}
 * are mutated the ways that hurt parsers: bit flips, bytes and 4/8-byte words overwritten with boundary values
 * (0, 1, -1, 2^31, 2^62, ...), truncation, chunk duplication and deletion. Whatever comes out, opening it
 * must either succeed (and then every tensor must be readable) or throw {@link ModelFormatException}; any other
 * Throwable (OutOfMemoryError, StackOverflowError, IndexOutOfBoundsException, ...) fails with the seed and
 * iteration needed to reproduce it. Deterministic (fixed seed), about 4000 files, a few seconds.
 */
class GgufMutationTest {
    private static final long[] WORDS = {0, 1, 2, 3, 4, 5, 8, 12, 13, 24, 31, 32, 63, 64, 255, 256, 0x7F, 0x80, 0xFF,
            0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 60, 1L << 62, Long.MAX_VALUE, -1L, -2L};

    static List<byte[]> seeds(Path dir) throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        Random r = new Random(3);
        float[] v = new float[512];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        GgufWriter a = new GgufWriter().putString("general.architecture", "llama").putUint32("llama.block_count", 2)
                .putFloat32("llama.rope.freq_base", 10000f).putBool("b", true)
                .put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("<s>", "a", "bc")))
                .put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, List.of(0f, -1f, -2f)))
                .put("nested", GgufValue.array(GgufValueType.ARRAY, List.of(GgufValue.array(GgufValueType.INT32, List.of(1, 2)))));
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q6_K};
        for (int i = 0; i < types.length; i++) {
            GgmlType t = types[i];
            int n0 = t.blockSize == 1 ? 8 : t.blockSize;
            a.addTensor("t" + i, new long[]{n0, 2}, Arrays.copyOf(v, n0 * 2), t);
        }
        Path p = dir.resolve("seed-a.gguf");
        a.write(p);
        seeds.add(Files.readAllBytes(p));
        new GgufWriter().putUint32("general.alignment", 64).putString("x", "y")
                .addTensor("q5k", new long[]{256}, Arrays.copyOf(v, 256), GgmlType.Q5_K)
                .addTensor("bf", new long[]{3, 1, 1, 1}, new float[]{1, 2, 3}, GgmlType.BF16).write(p);
        seeds.add(Files.readAllBytes(p));
        return seeds;
    }

    static byte[] mutate(byte[] in, Random r) {
        byte[] b = in;
        int rounds = 1 + r.nextInt(4);
        for (int k = 0; k < rounds && b.length > 0; k++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(7)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) WORDS[r.nextInt(WORDS.length)];
                case 2, 3 -> { // a uint32 or uint64 field overwritten with a boundary value, at a 4-aligned or any offset
                    int width = r.nextBoolean() ? 4 : 8;
                    if (r.nextBoolean()) at &= ~3;
                    ByteBuffer bb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(WORDS[r.nextInt(WORDS.length)]);
                    for (int i = 0; i < width && at + i < b.length; i++) b[at + i] = bb.get(i);
                }
                case 4 -> b = Arrays.copyOf(b, at);
                case 5 -> { // delete a chunk
                    int len = Math.min(b.length - at, 1 + r.nextInt(16));
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, b.length - at - len);
                    b = c;
                }
                default -> { // duplicate a chunk
                    int len = Math.min(b.length - at, 1 + r.nextInt(16));
                    byte[] c = new byte[b.length + len];
                    System.arraycopy(b, 0, c, 0, at + len);
                    System.arraycopy(b, at, c, at + len, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }

    @Test
    void mutatedFilesOpenOrFailWithModelFormatException(@TempDir Path dir) throws Exception {
        List<byte[]> seeds = seeds(dir);
        Path file = dir.resolve("mutant.gguf");
        long seed = 20240601L;
        Random r = new Random(seed);
        int opened = 0, rejected = 0;
        for (int it = 0; it < 4000; it++) {
            byte[] mutant = mutate(seeds.get(it % seeds.size()).clone(), r);
            Files.write(file, mutant);
            try (GgufFile f = GgufFile.open(file)) {
                f.metadata().values().forEach(GgufValue::value);
                for (GgufTensorInfo info : f.tensorInfos()) {
                    FloatTensor t = f.tensor(info.name());
                    float[] row = new float[(int) Math.min(t.size(), 1024)];
                    t.copyTo(0, row, 0, row.length);
                    t.dot(0, row, 0, row.length);
                }
                opened++;
            } catch (ModelFormatException expected) {
                assertThat(expected.getMessage()).startsWith(file.toString());
                // every rejection must come from an explicit check, not from GgufFile.open's safety net that
                // wraps unexpected runtime exceptions
                assertThat(expected.getMessage()).as("iteration %d", it).doesNotContain("malformed GGUF file (");
                rejected++;
            } catch (Throwable t) {
                Files.write(dir.resolve("crash.gguf"), mutant);
                throw new AssertionError("iteration " + it + " (seed " + seed + ") escaped with " + t, t);
            }
        }
        assertThat(rejected).as("most mutants are broken").isGreaterThan(1000);
        assertThat(opened).as("some mutants still open (mutations in tensor data)").isGreaterThan(10);
    }
}
