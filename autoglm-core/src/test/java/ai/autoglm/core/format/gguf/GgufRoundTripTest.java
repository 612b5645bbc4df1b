package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.ReferenceDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GgufWriter then GgufFile: every metadata value type, every supported tensor type, the on-disk layout. */
class GgufRoundTripTest {

    static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};

    static Map<String, GgufValue> allValueTypes() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string("llama"));
        m.put("test.uint8", GgufValue.of(GgufValueType.UINT8, 200));
        m.put("test.int8", GgufValue.of(GgufValueType.INT8, -100));
        m.put("test.uint16", GgufValue.of(GgufValueType.UINT16, 60000));
        m.put("test.int16", GgufValue.of(GgufValueType.INT16, -30000));
        m.put("test.uint32", GgufValue.uint32(4_000_000_000L));
        m.put("test.int32", GgufValue.of(GgufValueType.INT32, -123456789));
        m.put("test.float32", GgufValue.float32(-1.5e-3f));
        m.put("test.bool_true", GgufValue.bool(true));
        m.put("test.bool_false", GgufValue.bool(false));
        m.put("test.string", GgufValue.string("héllo, 世界 \u0000 end"));
        m.put("test.empty_string", GgufValue.string(""));
        m.put("test.uint64", GgufValue.of(GgufValueType.UINT64, -1L)); // 2^64 - 1 as raw bits
        m.put("test.int64", GgufValue.of(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("test.float64", GgufValue.of(GgufValueType.FLOAT64, Math.PI));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("<s>", "</s>", "▁hello", "世", "")));
        m.put("test.int_array", GgufValue.array(GgufValueType.INT32, List.of(1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE)));
        m.put("test.float_array", GgufValue.array(GgufValueType.FLOAT32, List.of(0.5f, -0.0f, Float.MAX_VALUE)));
        m.put("test.bool_array", GgufValue.array(GgufValueType.BOOL, List.of(true, false, true)));
        m.put("test.u8_array_empty", GgufValue.array(GgufValueType.UINT8, List.of()));
        m.put("test.u64_array", GgufValue.array(GgufValueType.UINT64, List.of(0L, -1L, 42L)));
        m.put("test.nested", GgufValue.array(GgufValueType.ARRAY, List.of(
                GgufValue.array(GgufValueType.INT32, List.of(1, 2, 3)),
                GgufValue.array(GgufValueType.STRING, List.of("a", "bc")),
                GgufValue.array(GgufValueType.FLOAT64, List.of()),
                GgufValue.array(GgufValueType.ARRAY, List.of(GgufValue.array(GgufValueType.UINT16, List.of(7)))))));
        return m;
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static long u32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
    }

    static long u64(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    void roundTrip(Path dir, Integer alignment) throws Exception {
        GgufWriter w = new GgufWriter();
        Map<String, GgufValue> meta = allValueTypes();
        meta.forEach(w::put);
        if (alignment != null) w.putUint32("general.alignment", alignment);
        Map<String, byte[]> expectedBytes = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        int k = 0;
        for (GgmlType t : TYPES) {
            long[] shape = {t.blockSize == 1 ? 37 : 2L * t.blockSize, 3};
            float[] values = random((int) (shape[0] * shape[1]), k);
            String name = "blk." + k++ + "." + t.name().toLowerCase() + ".weight";
            w.addTensor(name, shape, values, t);
            expectedBytes.put(name, Quantizer.quantize(t, values).toArray(ValueLayout.JAVA_BYTE));
            shapes.put(name, shape);
        }
        // One tensor given as raw bytes, and a 1-D and a 4-D one.
        MemorySegment raw = Quantizer.quantize(GgmlType.Q8_0, random(64, 99));
        w.addTensor("raw.q8", new long[]{64}, GgmlType.Q8_0, raw);
        expectedBytes.put("raw.q8", raw.toArray(ValueLayout.JAVA_BYTE));
        shapes.put("raw.q8", new long[]{64});
        float[] v4 = random(2 * 3 * 2 * 2, 5);
        w.addTensor("four.d", new long[]{2, 3, 2, 2}, v4, GgmlType.F32);
        expectedBytes.put("four.d", Quantizer.quantize(GgmlType.F32, v4).toArray(ValueLayout.JAVA_BYTE));
        shapes.put("four.d", new long[]{2, 3, 2, 2});

        Path file = dir.resolve("model.gguf");
        w.write(file);
        int align = alignment == null ? 32 : alignment;

        // Layout, read independently from the raw bytes (docs/gguf.md gguf_header_t).
        byte[] b = Files.readAllBytes(file);
        assertThat(new String(b, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("GGUF");
        assertThat(u32(b, 4)).isEqualTo(3);
        assertThat(u64(b, 8)).isEqualTo(expectedBytes.size());
        assertThat(u64(b, 16)).isEqualTo(meta.size() + (alignment == null ? 0 : 1));

        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.alignment()).isEqualTo(align);
            assertThat(f.path()).isEqualTo(file);
            List<String> keys = new ArrayList<>(meta.keySet());
            if (alignment != null) keys.add("general.alignment");
            assertThat(new ArrayList<>(f.metadata().keySet())).containsExactlyElementsOf(keys);
            meta.forEach((key, value) -> assertThat(f.metadata().get(key)).as(key).isEqualTo(value));
            assertThat(f.getString("general.architecture", null)).isEqualTo("llama");
            assertThat(f.getLong("test.uint32", 0)).isEqualTo(4_000_000_000L);
            assertThat(f.getLong("test.int8", 0)).isEqualTo(-100);
            assertThat(f.getFloat("test.float32", 0)).isEqualTo(-1.5e-3f);
            assertThat(f.getBoolean("test.bool_true", false)).isTrue();
            assertThat(f.getString("missing", "def")).isEqualTo("def");
            assertThatThrownBy(() -> f.getString("test.int32", null)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("test.int32").hasMessageContaining("INT32");

            assertThat(f.dataOffset() % align).isZero();
            assertThat(f.tensorInfos()).extracting(GgufTensorInfo::name).containsExactlyElementsOf(expectedBytes.keySet());
            long expectedOffset = 0;
            for (GgufTensorInfo info : f.tensorInfos()) {
                byte[] want = expectedBytes.get(info.name());
                assertThat(info.shape()).isEqualTo(shapes.get(info.name()));
                // llama.cpp requires offsets to be contiguous with each tensor padded to the alignment
                assertThat(info.offset()).isEqualTo(expectedOffset);
                expectedOffset += (want.length + align - 1) / align * align;
                assertThat(info.byteSize()).isEqualTo(want.length);
                assertThat(f.tensorData(info.name()).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(want);
                assertThat(f.tensorInfo(info.name())).isEqualTo(info);
                FloatTensor t = f.tensor(info.name());
                assertThat(t.type()).isEqualTo(info.type());
                float[] ref = ReferenceDecoder.decode(info.type(), want, (int) info.elements());
                for (int i = 0; i < ref.length; i++) assertThat(t.getFloat(i)).isEqualTo(ref[i]);
            }
            assertThat((long) b.length).isEqualTo(f.dataOffset() + expectedOffset);
            assertThat(f.tensor("nope")).isNull();
            assertThat(f.tensorData("nope")).isNull();
        }
    }

    @Test
    void roundTripsEveryValueAndTensorType(@TempDir Path dir) throws Exception {
        roundTrip(dir, null);
    }

    @Test
    void honoursACustomAlignment(@TempDir Path dir) throws Exception {
        roundTrip(dir, 64);
    }

    @Test
    void writeIsAtomicAndLeavesNothingOnFailure(@TempDir Path dir) throws Exception {
        GgufWriter w = new GgufWriter().putString("general.name", "x").addTensor("t", new long[]{32}, random(32, 1), GgmlType.Q8_0);
        Path file = dir.resolve("m.gguf");
        Files.writeString(file, "old contents");
        w.write(file); // replaces
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.getString("general.name", null)).isEqualTo("x");
        }
        Path blocker = dir.resolve("sub");
        Files.createDirectories(blocker.resolve("child")); // a non-empty directory cannot be replaced
        assertThatThrownBy(() -> w.write(blocker)).isInstanceOf(UncheckedIOException.class);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("m.gguf", "sub");
        }
    }

    @Test
    void writerRejectsWhatLlamaCppWouldRefuse() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.addTensor("x".repeat(64), new long[]{32}, random(32, 1), GgmlType.F32)).hasMessageContaining("longer than 63");
        assertThatThrownBy(() -> w.addTensor("t", new long[]{33}, random(33, 1), GgmlType.Q8_0)).hasMessageContaining("block size 32");
        assertThatThrownBy(() -> w.addTensor("t", new long[]{1, 1, 1, 1, 1}, random(1, 1), GgmlType.F32)).hasMessageContaining("1 to 4 dimensions");
        assertThatThrownBy(() -> w.putUint32("general.alignment", 12)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> w.put("k", GgufValue.of(GgufValueType.UINT8, 256))).hasMessageContaining("UINT8");
        assertThatThrownBy(() -> w.put("k", GgufValue.array(GgufValueType.ARRAY, List.of(1)))).hasMessageContaining("nested");
        w.addTensor("t", new long[]{32}, random(32, 1), GgmlType.F32);
        assertThatThrownBy(() -> w.addTensor("t", new long[]{32}, random(32, 1), GgmlType.F32)).hasMessageContaining("duplicate");
    }

    @Test
    void readsAFileWithoutTensors(@TempDir Path dir) {
        Path file = dir.resolve("empty.gguf");
        new GgufWriter().putString("a.b", "c").write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.tensorInfos()).isEmpty();
            assertThat(f.metadata()).containsOnlyKeys("a.b");
        }
    }
}
