package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.Tensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file (huggingface/safetensors, docs "Format" and safetensors/src/tensor.rs), memory-mapped with
 * FFM: weights are read in place, never copied onto the heap.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length N, then N bytes of UTF-8 JSON (an object mapping tensor
 * names to {@code {"dtype", "shape", "data_offsets": [begin, end]}}, plus an optional {@code "__metadata__"} object
 * of string values; the writer may pad it with trailing spaces), then the byte buffer the offsets point into.
 *
 * <p>Validation follows the reference implementation ({@code SafeTensors::read_metadata} / {@code Metadata::validate}):
 * the header is at most 100,000,000 bytes and starts with '{'; every tensor's byte size equals its element count times
 * its dtype size; the tensors, sorted by offset, tile the buffer exactly (no overlap, no hole, nothing after the last).
 * Anything else is a {@link ModelFormatException} naming the file and the problem. Beyond the reference: duplicate keys
 * are rejected, and shapes have at most {@value #MAX_RANK} dimensions.
 *
 * <p>Dtypes: F32, F16 and BF16 can be read as {@link FloatTensor}s. Other known dtypes (I64, U8, F8_E4M3, ...) are
 * accepted at open, so that a checkpoint holding e.g. an integer buffer still opens; requesting such a tensor with
 * {@link #tensor(String)} throws "unsupported dtype X for tensor Y". A dtype the format does not define is an error at
 * open, since its size, and so its offsets, cannot be checked.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap on the header (safetensors/src/tensor.rs {@code MAX_HEADER_SIZE}). */
    static final long MAX_HEADER_SIZE = 100_000_000L;
    /** No real checkpoint has tensors of more than a handful of dimensions; bounds memory on hostile headers. */
    static final int MAX_RANK = 16;
    private static final String METADATA_KEY = "__metadata__";

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, SafetensorsTensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, SafetensorsTensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}; throws {@link ModelFormatException} on any bad input. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException | UnsupportedOperationException e) {
                throw new ModelFormatException(path, "cannot read safetensors file: " + e, e);
            }
            ai.autoglm.core.format.LoadedFiles.mapped(path, file); // a signed model is checked on what is mapped
            long size = file.byteSize();
            if (size < 8) {
                throw new ModelFormatException(path, "file is " + size + " bytes; a safetensors file starts with an 8-byte header length");
            }
            long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            // Unsigned u64 in the file: a negative long is above 2^63, absurd in any case.
            if (headerLen < 0 || headerLen > MAX_HEADER_SIZE) {
                throw new ModelFormatException(path, "header length " + Long.toUnsignedString(headerLen)
                        + " is absurd (at most " + MAX_HEADER_SIZE + " bytes)");
            }
            if (headerLen > size - 8) {
                throw new ModelFormatException(path, "header length " + headerLen + " runs past the end of the file ("
                        + size + " bytes)");
            }
            if (headerLen < 2) {
                throw new ModelFormatException(path, "header length " + headerLen + " is too short for a JSON object");
            }
            byte[] header = file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            if (header[0] != '{') {
                throw new ModelFormatException(path, "header does not start with '{'");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, SafetensorsTensorInfo> tensors = parseHeader(path, header, metadata);
            MemorySegment data = file.asSlice(8 + headerLen);
            validateOffsets(path, tensors, data.byteSize());
            return new SafetensorsFile(path, arena, data, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, SafetensorsTensorInfo> parseHeader(Path path, byte[] header, Map<String, String> metadata) {
        Map<String, SafetensorsTensorInfo> tensors = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(header)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ModelFormatException(path, "header is not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (METADATA_KEY.equals(key)) {
                    parseMetadata(path, p, value, metadata);
                } else {
                    tensors.put(key, parseTensor(path, p, value, key));
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new ModelFormatException(path, "malformed JSON header");
            }
            if (p.nextToken() != null) {
                throw new ModelFormatException(path, "malformed JSON header: content after the closing '}'");
            }
        } catch (JacksonException e) {
            throw new ModelFormatException(path, "malformed JSON header: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot parse header: " + e, e);
        }
        return tensors;
    }

    private static void parseMetadata(Path path, JsonParser p, JsonToken value, Map<String, String> metadata) throws IOException {
        if (value == JsonToken.VALUE_NULL) return;
        if (value != JsonToken.START_OBJECT) {
            throw new ModelFormatException(path, "__metadata__ is not a JSON object");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new ModelFormatException(path, "__metadata__ value of '" + k + "' is not a string");
            }
            metadata.put(k, p.getText());
        }
    }

    private static SafetensorsTensorInfo parseTensor(Path path, JsonParser p, JsonToken value, String name) throws IOException {
        if (value != JsonToken.START_OBJECT) {
            throw new ModelFormatException(path, "entry of tensor '" + name + "' is not a JSON object");
        }
        String dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        throw new ModelFormatException(path, "dtype of tensor '" + name + "' is not a string");
                    }
                    dtype = p.getText();
                }
                case "shape" -> shape = parseLongs(path, p, v, name, "shape", MAX_RANK);
                case "data_offsets" -> offsets = parseLongs(path, p, v, name, "data_offsets", 2);
                default -> p.skipChildren(); // unknown fields are allowed by the reference deserializer
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            throw new ModelFormatException(path, "tensor '" + name + "' lacks "
                    + (dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        if (offsets.length != 2) {
            throw new ModelFormatException(path, "data_offsets of tensor '" + name + "' must be [begin, end]");
        }
        SafetensorsDtype dt = SafetensorsDtype.fromName(dtype);
        if (dt == null) {
            throw new ModelFormatException(path, "unknown dtype '" + dtype + "' for tensor '" + name + "'");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin) {
            throw new ModelFormatException(path, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] with end before begin");
        }
        long bytes;
        try {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            bytes = Math.multiplyExact(n, (long) dt.size);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, "shape of tensor '" + name + "' overflows: " + java.util.Arrays.toString(shape));
        }
        if (bytes != end - begin) {
            throw new ModelFormatException(path, "tensor '" + name + "' of dtype " + dtype + " and shape "
                    + java.util.Arrays.toString(shape) + " needs " + bytes + " bytes but data_offsets span " + (end - begin));
        }
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] parseLongs(Path path, JsonParser p, JsonToken v, String name, String field, int max) throws IOException {
        if (v != JsonToken.START_ARRAY) {
            throw new ModelFormatException(path, field + " of tensor '" + name + "' is not an array");
        }
        List<Long> values = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new ModelFormatException(path, field + " of tensor '" + name + "' holds a non-integer");
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new ModelFormatException(path, field + " of tensor '" + name + "' holds a value too large: " + p.getText());
            }
            long x = p.getLongValue();
            if (x < 0) {
                throw new ModelFormatException(path, field + " of tensor '" + name + "' holds a negative value: " + x);
            }
            if (values.size() == max) {
                throw new ModelFormatException(path, field + " of tensor '" + name + "' has more than " + max + " entries");
            }
            values.add(x);
        }
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    /** The tensors, sorted by offset, must tile [0, dataLen) exactly (reference: Metadata::validate). */
    private static void validateOffsets(Path path, Map<String, SafetensorsTensorInfo> tensors, long dataLen) {
        List<SafetensorsTensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(SafetensorsTensorInfo::begin).thenComparingLong(SafetensorsTensorInfo::end));
        long expected = 0;
        SafetensorsTensorInfo previous = null;
        for (SafetensorsTensorInfo t : sorted) {
            if (t.end() > dataLen) {
                throw new ModelFormatException(path, "tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end()
                        + "] run past the end of the data (" + dataLen + " bytes)");
            }
            if (t.begin() < expected) {
                throw new ModelFormatException(path, "tensor '" + t.name() + "' overlaps tensor '" + previous.name() + "'");
            }
            if (t.begin() > expected) {
                throw new ModelFormatException(path, "gap of " + (t.begin() - expected) + " bytes in the data before tensor '"
                        + t.name() + "'");
            }
            expected = t.end();
            previous = t;
        }
        if (expected != dataLen) {
            throw new ModelFormatException(path, "data is " + dataLen + " bytes but the tensors cover " + expected);
        }
    }

    public Path path() {
        return path;
    }

    /** Tensor entries in header order. */
    public Map<String, SafetensorsTensorInfo> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The entry for {@code name}, or null. */
    public SafetensorsTensorInfo info(String name) {
        return tensors.get(name);
    }

    /** The raw bytes of {@code name} as a slice of the mapping, or null when absent. */
    public MemorySegment tensorData(String name) {
        SafetensorsTensorInfo info = tensors.get(name);
        return info == null ? null : data.asSlice(info.begin(), info.byteSize());
    }

    /**
     * A float view of {@code name} over the mapping (no copy), or null when the file has no such tensor.
     * Throws {@link ModelFormatException} when its dtype is not F32, F16 or BF16.
     */
    public FloatTensor tensor(String name) {
        SafetensorsTensorInfo info = tensors.get(name);
        if (info == null) return null;
        SafetensorsDtype dt = SafetensorsDtype.fromName(info.dtype());
        if (dt == null || !dt.readable()) {
            throw new ModelFormatException(path, "unsupported dtype " + info.dtype() + " for tensor " + name
                    + " (readable: F32, F16, BF16)");
        }
        return Tensors.view(dt.ggmlType, data.asSlice(info.begin(), info.byteSize()), info.elements());
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
