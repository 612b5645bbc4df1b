package ai.autoglm.core.format.gguf;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A GGUF file over 2 GiB: a 2.4 GB F32 tensor followed by a small one, in a sparse file (the zeros take
 * no disk), so every offset past 2^31 goes through the reader's 64-bit paths and the mapping.
 */
class GgufLargeFileTest {

    @Test
    void tensorsPastTwoGibibytesReadCorrectly(@TempDir Path dir) throws Exception {
        long rows = 150_000, cols = 4096;                    // 614.4M floats = 2.4576 GB
        long bigBytes = rows * cols * 4;
        byte[] header = GgufBytes.header(3, 2, 1)
                .str("general.architecture").u32(GgufValueType.STRING.id).str("test")
                .tensor("big", new long[]{cols, rows}, GgmlType.F32.id, 0)
                .tensor("tail", new long[]{32}, GgmlType.F32.id, bigBytes)
                .padTo(32).bytes();
        Path file = dir.resolve("large.gguf");
        long dataStart = header.length;
        float[] lastRow = new float[(int) cols];
        for (int i = 0; i < cols; i++) lastRow[i] = (i % 7) - 3;
        float[] tail = new float[32];
        for (int i = 0; i < 32; i++) tail[i] = i * 0.5f;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(header);
            raf.setLength(dataStart + bigBytes + 32 * 4);   // sparse: nothing written in between
            raf.seek(dataStart + bigBytes - cols * 4);
            raf.write(floats(lastRow));
            raf.write(floats(tail));
        }
        assertThat(Files.size(file)).isGreaterThan(1L << 31);

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.tensorInfo("tail").offset()).isGreaterThan(Integer.MAX_VALUE);
            FloatTensor big = gguf.tensor("big");
            FloatTensor t = gguf.tensor("tail");
            assertThat(big.size()).isEqualTo(rows * cols);
            for (int i = 0; i < 32; i++) assertThat(t.getFloat(i)).isEqualTo(tail[i]);
            long lastRowStart = (rows - 1) * cols;
            float expected = 0;
            float[] x = new float[(int) cols];
            for (int i = 0; i < cols; i++) {
                x[i] = 1f / (1 + i % 5);
                expected += lastRow[i] * x[i];
                assertThat(big.getFloat(lastRowStart + i)).isEqualTo(lastRow[i]);
            }
            assertThat(big.dot(lastRowStart, x, 0, (int) cols)).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-3f));
            assertThat(big.getFloat(rows * cols / 2)).isZero();
        }
    }

    private static byte[] floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }
}
