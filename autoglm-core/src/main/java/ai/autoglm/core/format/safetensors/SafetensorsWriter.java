package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.format.AtomicFiles;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a safetensors file (huggingface/safetensors docs "Format") from float values, converting to F32, F16 or BF16.
 * Tensors are laid out in the order they were added; the header is padded with spaces to a multiple of 8 bytes, as
 * the reference serializer does, so the data section starts aligned. {@link #write} is atomic: the file is written
 * to a temporary file in the same directory and renamed into place, so a reader never sees half a file.
 *
 * <p>Conversions round to nearest, ties to even: F16 with {@link Float#floatToFloat16}, BF16 like PyTorch's
 * {@code c10::BFloat16} {@code round_to_nearest_even} (NaN stays a quiet NaN with its sign).
 */
public final class SafetensorsWriter {
    private record Entry(long[] shape, SafetensorsDtype dtype, float[] values) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor; {@code hfShape} in Hugging Face order (last dimension = row length), dtype F32, F16 or BF16. */
    public SafetensorsWriter add(String name, long[] hfShape, String dtype, float[] values) {
        SafetensorsDtype dt = SafetensorsDtype.fromName(dtype);
        if (dt == null || !dt.readable()) {
            throw new IllegalArgumentException("dtype must be F32, F16 or BF16, got " + dtype);
        }
        if (name == null || name.equals("__metadata__") || entries.containsKey(name)) {
            throw new IllegalArgumentException("bad or duplicate tensor name: " + name);
        }
        long n = 1;
        for (long d : hfShape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(hfShape));
            n = Math.multiplyExact(n, d);
        }
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(hfShape) + " has " + n
                    + " elements but " + values.length + " values were given");
        }
        entries.put(name, new Entry(hfShape.clone(), dt, values));
        return this;
    }

    /** Adds a {@code __metadata__} string. */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes the file atomically (temp file in the same directory, then rename). */
    public void write(Path out) {
        Path abs = out.toAbsolutePath();
        byte[] header;
        try {
            header = header();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.write(abs, ch -> {
            OutputStream os = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            os.write(len.array());
            os.write(header);
            byte[] buf = new byte[4];
            for (Entry e : entries.values()) {
                for (float v : e.values) {
                    switch (e.dtype) {
                        case F32 -> {
                            int bits = Float.floatToRawIntBits(v);
                            buf[0] = (byte) bits;
                            buf[1] = (byte) (bits >>> 8);
                            buf[2] = (byte) (bits >>> 16);
                            buf[3] = (byte) (bits >>> 24);
                            os.write(buf, 0, 4);
                        }
                        case F16, BF16 -> {
                            short h = e.dtype == SafetensorsDtype.F16 ? Float.floatToFloat16(v) : floatToBf16(v);
                            buf[0] = (byte) h;
                            buf[1] = (byte) (h >>> 8);
                            os.write(buf, 0, 2);
                        }
                        default -> throw new IllegalStateException();
                    }
                }
            }
            os.flush();
        });
    }

    private byte[] header() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(bytes)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> m : metadata.entrySet()) g.writeStringField(m.getKey(), m.getValue());
                g.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, Entry> e : entries.entrySet()) {
                Entry t = e.getValue();
                long size = (long) t.values.length * t.dtype.size;
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", t.dtype.name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + size);
                g.writeEndArray();
                g.writeEndObject();
                offset += size;
            }
            g.writeEndObject();
        }
        byte[] h = bytes.toByteArray();
        int pad = (8 - h.length % 8) % 8;
        if (pad == 0) return h;
        byte[] padded = Arrays.copyOf(h, h.length + pad);
        Arrays.fill(padded, h.length, padded.length, (byte) ' ');
        return padded;
    }

    /** float to bfloat16, round to nearest even; NaN becomes a quiet NaN of the same sign (c10/util/BFloat16.h). */
    static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
