package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.format.ModelFormatException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each kind of broken or hostile file gets a ModelFormatException naming the file and the problem. */
class SafetensorsHostileTest {

    @TempDir
    Path dir;

    private Path file(long headerLen, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(h);
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private Path file(String header, int dataBytes) throws IOException {
        return file(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    private void rejects(Path p, String problem) {
        assertThatThrownBy(() -> SafetensorsFile.open(p).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining(problem);
    }

    @Test
    void tooShort() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 2, 3});
        rejects(p, "8-byte header length");
    }

    @Test
    void missingFile() {
        rejects(dir.resolve("nope.safetensors"), "cannot read");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        rejects(file(1L << 40, "{}", 0), "absurd");
        rejects(file(-1L, "{}", 0), "absurd"); // u64 max
    }

    @Test
    void headerPastEof() throws IOException {
        rejects(file(1000, "{}", 0), "past the end of the file");
    }

    @Test
    void malformedJson() throws IOException {
        rejects(file("{\"a\": {\"dtype\": ", 0), "malformed JSON");
        rejects(file("{\"a\": 1} {}", 0), "");
        rejects(file("[1, 2]  ", 0), "does not start with '{'");
        rejects(file("{\"a\": 1}", 0), "is not a JSON object");
        // invalid UTF-8 inside a string
        Path p = dir.resolve("utf8.safetensors");
        byte[] h = {'{', '"', 'x', (byte) 0xff, '"', ':', '1', '}'};
        Files.write(p, ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
        rejects(p, "malformed JSON");
    }

    @Test
    void duplicateKeys() throws IOException {
        String t = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        rejects(file("{\"a\":" + t + ",\"a\":" + t + "}", 4), "malformed JSON");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "past the end of the data");
    }

    @Test
    void overlapping() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlaps");
    }

    @Test
    void gapAndTrailingBytes() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "gap");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), "cover");
    }

    @Test
    void sizeNotMatchingDtypeTimesShape() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs 6 bytes");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "end before begin");
    }

    @Test
    void negativeDimensionAndOverflow() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "negative");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4), "overflows");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4), "too large");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "non-integer");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4), "more than 16");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4), "more than 2");
    }

    @Test
    void missingFieldsAndUnknownDtype() throws IOException {
        rejects(file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "lacks dtype");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "lacks shape");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "lacks data_offsets");
        rejects(file("{\"a\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype 'Q9'");
        rejects(file("{\"__metadata__\":{\"k\":1}}", 0), "not a string");
    }

    @Test
    void unsupportedDtypeFailsOnlyWhenRequested() throws IOException {
        Path p = file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}", 20);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.tensors()).containsKeys("ids", "w");
            assertThat(f.tensor("w").getFloat(0)).isEqualTo(0f);
            assertThatThrownBy(() -> f.tensor("ids"))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("unsupported dtype I64 for tensor ids");
        }
    }
}
