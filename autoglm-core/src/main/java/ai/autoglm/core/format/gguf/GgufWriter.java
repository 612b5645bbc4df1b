package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.AtomicFiles;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a GGUF v3 file (ggml-org/ggml docs/gguf.md): little-endian, uint64 counts, strings as uint64 length
 * plus UTF-8 bytes, metadata in insertion order, tensor infos in insertion order, the data section and every
 * tensor's data aligned to {@code general.alignment} (default 32) with zero padding, and each tensor's data
 * padded to the alignment, so offsets are contiguous exactly as ggml's gguf writer lays them out (llama.cpp's
 * reader insists on that). {@link #write} is atomic: a temp file in the target directory, fsync, then an
 * ATOMIC_MOVE rename; on failure the temp file is deleted and no partial file is left.
 *
 * <p>Limits imposed by llama.cpp that this writer checks: tensor names shorter than 64 bytes (GGML_MAX_NAME),
 * at most 4 dimensions, row length a multiple of the block size, alignment a power of two (and a multiple of 8,
 * as the spec asks). Nested arrays are valid GGUF and written, but llama.cpp's reader rejects them.
 */
public final class GgufWriter {
    private static final int MAX_TENSOR_NAME_BYTES = 63;

    private record PendingTensor(String name, long[] shape, GgmlType type, MemorySegment data) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /** Adds (or replaces, keeping its position) metadata {@code key}; the value must match its declared type. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("metadata key must not be empty");
        if (key.getBytes(StandardCharsets.UTF_8).length > 65535) throw new IllegalArgumentException("metadata key too long: " + key);
        validate(value, key, 0);
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            if (value.type() != GgufValueType.UINT32) throw new IllegalArgumentException(key + " must be UINT32");
            long a = value.asLong();
            if (a < 8 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new IllegalArgumentException(key + " must be a power of two >= 8, got " + a);
            }
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.string(value));
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValue.uint32(value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValue.float32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValue.bool(value));
    }

    /**
     * Adds a tensor whose bytes are already in {@code type}'s layout (e.g. copied from another GGUF file).
     * {@code shape} is in GGUF order ({@code shape[0]} = row length). The segment is read during {@link #write}.
     */
    public GgufWriter addTensor(String name, long[] shape, GgmlType type, MemorySegment data) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name longer than " + MAX_TENSOR_NAME_BYTES + " bytes: " + name);
        }
        if (tensorNames.contains(name)) throw new IllegalArgumentException("duplicate tensor name " + name);
        if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": 1 to 4 dimensions needed, got " + shape.length);
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor " + name + ": negative dimension " + d);
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        long bytes = type.bytesFor(elements);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + type + " " + java.util.Arrays.toString(shape) + " needs "
                    + bytes + " bytes, data has " + data.byteSize());
        }
        tensorNames.add(name);
        tensors.add(new PendingTensor(name, shape.clone(), type, data));
        return this;
    }

    /** Adds a tensor given as F32 values, converted or quantized to {@code type} with {@link Quantizer}. */
    public GgufWriter addTensor(String name, long[] shape, float[] values, GgmlType type) {
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        if (elements != values.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape has " + elements + " elements, got " + values.length + " values");
        }
        if (shape.length > 0 && shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        return addTensor(name, shape, type, Quantizer.quantize(type, values));
    }

    /** Writes the file atomically. @throws UncheckedIOException on I/O failure (nothing is left behind). */
    public void write(Path out) {
        Path target = out.toAbsolutePath();
        int alignment = metadata.containsKey(GgufFile.ALIGNMENT_KEY)
                ? (int) metadata.get(GgufFile.ALIGNMENT_KEY).asLong() : GgufFile.DEFAULT_ALIGNMENT;
        byte[] header = header(alignment);
        AtomicFiles.write(target, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            byte[] chunk = new byte[1 << 20];
            for (PendingTensor t : tensors) {
                long size = t.data.byteSize();
                for (long off = 0; off < size; off += chunk.length) {
                    int len = (int) Math.min(chunk.length, size - off);
                    MemorySegment.copy(t.data, ValueLayout.JAVA_BYTE, off, chunk, 0, len);
                    writeFully(ch, ByteBuffer.wrap(chunk, 0, len));
                }
                writeFully(ch, ByteBuffer.allocate((int) (GgufFile.alignUp(size, alignment) - size)));
            }
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Header, metadata, tensor infos and the padding up to the data section. */
    private byte[] header(int alignment) {
        Out o = new Out();
        o.u32(GgufFile.MAGIC);
        o.u32(3);
        o.u64(tensors.size());
        o.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            o.string(e.getKey());
            o.u32(e.getValue().type().id);
            writeValue(o, e.getValue());
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            o.string(t.name);
            o.u32(t.shape.length);
            for (long d : t.shape) o.u64(d);
            o.u32(t.type.id);
            o.u64(offset);
            offset += GgufFile.alignUp(t.data.byteSize(), alignment);
        }
        while (o.size() % alignment != 0) o.write(0);
        return o.toByteArray();
    }

    private static void writeValue(Out o, GgufValue v) {
        if (v.type() == GgufValueType.ARRAY) {
            o.u32(v.elementType().id);
            List<Object> list = v.asList();
            o.u64(list.size());
            for (Object e : list) {
                if (v.elementType() == GgufValueType.ARRAY) writeValue(o, (GgufValue) e);
                else writeScalar(o, v.elementType(), e);
            }
        } else {
            writeScalar(o, v.type(), v.value());
        }
    }

    private static void writeScalar(Out o, GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8 -> o.write(((Number) value).intValue());
            case UINT16, INT16 -> o.u16(((Number) value).intValue());
            case UINT32, INT32 -> o.u32((int) ((Number) value).longValue());
            case FLOAT32 -> o.u32(Float.floatToRawIntBits(((Number) value).floatValue()));
            case BOOL -> o.write((Boolean) value ? 1 : 0);
            case STRING -> o.string((String) value);
            case UINT64, INT64 -> o.u64(((Number) value).longValue());
            case FLOAT64 -> o.u64(Double.doubleToRawLongBits(((Number) value).doubleValue()));
            case ARRAY -> throw new IllegalStateException("arrays are written by writeValue");
        }
    }

    /** Checks that the Java value matches the declared type and range (GgufValue's representation). */
    private static void validate(GgufValue v, String key, int depth) {
        if (v == null || v.type() == null) throw new IllegalArgumentException(key + ": null value");
        if (v.type() == GgufValueType.ARRAY) {
            if (depth >= GgufFile.MAX_NESTING) throw new IllegalArgumentException(key + ": arrays nested too deep");
            if (v.elementType() == null || !(v.value() instanceof List<?> list)) {
                throw new IllegalArgumentException(key + ": ARRAY needs an element type and a List");
            }
            for (Object e : list) {
                if (v.elementType() == GgufValueType.ARRAY) {
                    if (!(e instanceof GgufValue inner) || inner.type() != GgufValueType.ARRAY) {
                        throw new IllegalArgumentException(key + ": elements of a nested array must be ARRAY GgufValues");
                    }
                    validate(inner, key, depth + 1);
                } else {
                    validateScalar(v.elementType(), e, key);
                }
            }
        } else {
            validateScalar(v.type(), v.value(), key);
        }
    }

    private static void validateScalar(GgufValueType type, Object value, String key) {
        boolean ok = switch (type) {
            case UINT8 -> value instanceof Number n && inRange(n, 0, 0xFF);
            case INT8 -> value instanceof Number n && inRange(n, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> value instanceof Number n && inRange(n, 0, 0xFFFF);
            case INT16 -> value instanceof Number n && inRange(n, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> value instanceof Number n && inRange(n, 0, 0xFFFFFFFFL);
            case INT32 -> value instanceof Number n && inRange(n, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> value instanceof Long || value instanceof Integer;
            case FLOAT32 -> value instanceof Float;
            case FLOAT64 -> value instanceof Double || value instanceof Float;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> false;
        };
        if (!ok) throw new IllegalArgumentException(key + ": " + value + " is not a valid " + type);
    }

    private static boolean inRange(Number n, long lo, long hi) {
        if (!(n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte)) return false;
        long v = n.longValue();
        return v >= lo && v <= hi;
    }

    /** Little-endian byte sink. */
    private static final class Out extends ByteArrayOutputStream {
        void u16(int v) {
            write(v);
            write(v >>> 8);
        }

        void u32(int v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }
    }
}
