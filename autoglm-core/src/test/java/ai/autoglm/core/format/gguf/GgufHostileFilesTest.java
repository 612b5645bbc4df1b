package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each way a GGUF file can be corrupt or hostile gets a ModelFormatException naming the file and the problem. */
class GgufHostileFilesTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws Exception {
        Path p = Files.createTempFile(dir, "hostile", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    private void rejects(byte[] bytes, String... messageParts) throws Exception {
        Path p = file(bytes);
        assertThatThrownBy(() -> GgufFile.open(p).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContainingAll(messageParts)
                .satisfies(e -> assertThat(((ModelFormatException) e).file()).isEqualTo(p));
    }

    /** A valid one-tensor file: 32 floats of F32 at offset 0. */
    private static GgufBytes oneTensor(long[] dims, int type, long offset, int dataBytes) {
        return GgufBytes.header(3, 1, 1).kvU32("general.alignment", 32)
                .tensor("w", dims, type, offset).padTo(32).zeros(dataBytes);
    }

    @Test
    void validBaselineOpens() throws Exception {
        try (GgufFile f = GgufFile.open(file(oneTensor(new long[]{32}, 0, 0, 128).bytes()))) {
            assertThat(f.tensorInfo("w").byteSize()).isEqualTo(128);
            assertThat(f.tensor("w").getFloat(31)).isZero();
        }
        // version 2 has the same layout (uint64 counts)
        try (GgufFile f = GgufFile.open(file(GgufBytes.header(2, 0, 1).kvU32("a", 1).bytes()))) {
            assertThat(f.version()).isEqualTo(2);
        }
    }

    @Test
    void badMagicAndVersion() throws Exception {
        rejects("GGML0000000000000000000000".getBytes(), "bad magic", "not a GGUF file");
        rejects(GgufBytes.header(4, 0, 0).bytes(), "unsupported GGUF version 4");
        rejects(GgufBytes.header(1, 0, 0).bytes(), "unsupported GGUF version 1");
        rejects(new byte[0], "truncated");
        rejects("GGUF".getBytes(), "truncated", "header version");
    }

    @Test
    void everyTruncationOfAValidFileIsRejected() throws Exception {
        byte[] full = GgufBytes.header(3, 1, 2).kvU32("general.alignment", 32)
                .str("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.id).u32(GgufValueType.STRING.id).u64(2).str("ab").str("c")
                .tensor("w", new long[]{32, 2}, GgmlType.Q8_0.id, 0).padTo(32).zeros(68).bytes();
        try (GgufFile f = GgufFile.open(file(full))) {
            assertThat(f.tensorInfos()).hasSize(1);
        }
        for (int len = 0; len < full.length; len++) {
            Path p = file(Arrays.copyOf(full, len));
            assertThatThrownBy(() -> GgufFile.open(p)).as("prefix of %d bytes", len)
                    .isInstanceOf(ModelFormatException.class).hasMessageContaining(p.toString());
        }
    }

    @Test
    void absurdCountsAndLengthsNeverAllocate() throws Exception {
        rejects(GgufBytes.header(3, 1L << 60, 0).bytes(), "tensor count", "1152921504606846976", "more than");
        rejects(GgufBytes.header(3, 0, 1L << 62).bytes(), "metadata key-value count", "more than");
        rejects(GgufBytes.header(3, 0, -1L).bytes(), "18446744073709551615");
        rejects(GgufBytes.header(3, 0, 1).u64(1L << 62).zeros(16).bytes(), "metadata key #0 length", "4611686018427387904");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id).u64(1L << 62).bytes(),
                "value of key 'k' length", "more than");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id).u32(GgufValueType.UINT64.id).u64(1L << 40).u64(0).bytes(),
                "array length of key 'k'", "1099511627776");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id).u32(GgufValueType.ARRAY.id).u64(-1L).bytes(),
                "array length of key 'k'");
        rejects(GgufBytes.header(3, 1, 0).u64(-2L).zeros(24).bytes(), "name of tensor #0 length", "18446744073709551614");
        // deeply nested arrays (each level 12 bytes) would exhaust the stack without a depth limit
        GgufBytes deep = GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id);
        for (int i = 0; i < 10_000; i++) deep.u32(GgufValueType.ARRAY.id).u64(1);
        rejects(deep.bytes(), "nests arrays deeper than");
    }

    @Test
    void badMetadata() throws Exception {
        rejects(GgufBytes.header(3, 0, 2).kvU32("a.b", 1).kvU32("a.b", 2).bytes(), "duplicate metadata key 'a.b'");
        rejects(GgufBytes.header(3, 0, 1).str("").u32(4).u32(1).bytes(), "key #0 is empty");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(13).u32(0).bytes(), "key 'k' has unknown value type id 13");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id).u32(77).u64(0).bytes(), "unknown value type id 77");
        rejects(GgufBytes.header(3, 0, 1).str("k").u32(GgufValueType.BOOL.id).u8(2).bytes(), "must be 0 or 1");
        rejects(GgufBytes.header(3, 0, 1).str("general.alignment").u32(GgufValueType.INT32.id).u32(32).bytes(), "must be UINT32");
        rejects(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 48).bytes(), "48", "not a power of two");
        rejects(GgufBytes.header(3, 0, 1).kvU32("general.alignment", 0).bytes(), "not a power of two");
    }

    @Test
    void badTensorInfos() throws Exception {
        rejects(oneTensor(new long[]{32, 1, 1, 1, 1}, 0, 0, 128).bytes(), "tensor 'w' has 5 dimensions (at most 4)");
        rejects(oneTensor(new long[]{1L << 32, 1L << 32}, 0, 0, 0).bytes(), "tensor 'w'", "overflows");
        rejects(oneTensor(new long[]{1L << 62, 3}, 0, 0, 0).bytes(), "overflows");
        rejects(oneTensor(new long[]{-1L}, 0, 0, 0).bytes(), "tensor 'w' dimension 0", "negative");
        rejects(oneTensor(new long[]{32}, 99, 0, 128).bytes(), "tensor 'w' has unknown tensor type id 99");
        rejects(oneTensor(new long[]{256}, GgmlType.Q8_K.id, 0, 292).bytes(), "tensor 'w' has type Q8_K", "not support");
        rejects(oneTensor(new long[]{31}, GgmlType.Q8_0.id, 0, 34).bytes(), "not a multiple of the block size 32");
        rejects(oneTensor(new long[]{32}, 0, 16, 256).bytes(), "tensor 'w' has data offset 16, not a multiple of the alignment 32");
        rejects(oneTensor(new long[]{32}, 0, 0, 127).bytes(), "tensor 'w' data [0, 128)", "past the end of the file");
        rejects(oneTensor(new long[]{32}, 0, 1L << 40, 128).bytes(), "past the end of the file");
        rejects(oneTensor(new long[]{32}, 0, -32L, 128).bytes(), "data offset 18446744073709551584");
        rejects(oneTensor(new long[]{1L << 40}, 0, 0, 128).bytes(), "past the end of the file");
        rejects(GgufBytes.header(3, 2, 0).tensor("a", new long[]{32}, 0, 0).tensor("a", new long[]{32}, 0, 128)
                .padTo(32).zeros(256).bytes(), "duplicate tensor name 'a'");
        rejects(GgufBytes.header(3, 2, 0).tensor("a", new long[]{32}, 0, 0).tensor("b", new long[]{32}, 0, 64)
                .padTo(32).zeros(256).bytes(), "tensors 'a' and 'b' overlap");
        // header ends mid-way to the data section
        rejects(GgufBytes.header(3, 1, 0).tensor("a", new long[]{0}, 0, 0).bytes(), "data section");
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nope.gguf");
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("cannot read");
    }
}
