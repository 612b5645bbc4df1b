package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Tensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3; ggml-org/ggml docs/gguf.md), memory-mapped read-only through FFM
 * ({@link FileChannel#map(FileChannel.MapMode, long, long, Arena)} with a shared arena), so files over 2 GiB
 * work and tensor data is never copied onto the heap: {@link #tensorData} and {@link #tensor} are views of
 * the mapping, valid until {@link #close}.
 *
 * <p>The header is parsed defensively: every count and length is checked against the bytes left in the file
 * before anything is allocated, and metadata is additionally capped in total (see {@link #MAX_METADATA_VALUES}),
 * so a hostile file gets a {@link ModelFormatException} naming the file and the problem, never an
 * OutOfMemoryError. Checks follow ggml's own reader (gguf.cpp gguf_init_from_file_impl): alignment a power
 * of two of type UINT32, at most 4 dimensions, no negative dimensions or element-count overflow, row length a
 * multiple of the block size, no duplicate keys or tensor names; plus aligned offsets, data inside the file
 * and no overlapping tensors.
 *
 * <p>Metadata values use {@link GgufValue}'s representation; the elements of a nested array (an array whose
 * element type is ARRAY) are themselves {@link GgufValue}s of type ARRAY, so their element types are kept.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    /** Default data alignment when general.alignment is absent (GGUF_DEFAULT_ALIGNMENT). */
    public static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = GgufKeys.ALIGNMENT;
    /** Cap on the number of metadata values (array elements included) in one file: 64x the largest vocabularies. */
    static final long MAX_METADATA_VALUES = 1L << 24;
    /** Cap on the total bytes of all metadata strings. */
    static final long MAX_METADATA_STRING_BYTES = 256L << 20;
    /** Cap on array nesting, against stack exhaustion by deeply nested empty arrays. */
    static final int MAX_NESTING = 8;
    static final int MAX_DIMS = 4;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final int alignment;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, int version, int alignment,
                     Map<String, GgufValue> metadata, List<GgufTensorInfo> tensorInfos, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.alignment = alignment;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensorInfos = List.copyOf(tensorInfos);
        Map<String, GgufTensorInfo> byName = new HashMap<>();
        for (GgufTensorInfo t : tensorInfos) byName.put(t.name(), t);
        this.tensorsByName = byName;
        this.dataOffset = dataOffset;
    }

    /**
     * Maps and parses the file.
     *
     * @throws ModelFormatException if the file cannot be read or is not a valid GGUF file this engine supports
     */
    public static GgufFile open(Path path) {
        long size;
        Arena arena = Arena.ofShared();
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            size = ch.size();
            mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException | UnsupportedOperationException e) {
            arena.close();
            throw new ModelFormatException(path, "cannot read the file: " + e, e);
        }
        try {
            ai.autoglm.core.format.LoadedFiles.mapped(path, mapping); // a signed model is checked on what is mapped
            return new Parser(path, mapping).parse(arena);
        } catch (ModelFormatException e) {
            arena.close();
            throw e;
        } catch (RuntimeException e) {
            if (e instanceof ai.autoglm.core.format.LoadedFiles.Refused) { // the bound check refused the content
                arena.close();
                throw e;
            }
            // a bug in a check above, never an expected path: still name the file
            arena.close();
            throw new ModelFormatException(path, "malformed GGUF file (" + e + ")", e);
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata in file order (unmodifiable). */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** The string value of {@code key}, or {@code def} when absent; a value of another type is an error. */
    public String getString(String key, String def) {
        GgufValue v = metadata.get(key);
        if (v == null) return def;
        if (v.type() != GgufValueType.STRING) throw wrongType(key, v, "a string");
        return v.asString();
    }

    /** The value of an integer-typed {@code key} (any width, UINT64 as raw bits), or {@code def} when absent. */
    public long getLong(String key, long def) {
        GgufValue v = metadata.get(key);
        if (v == null) return def;
        return switch (v.type()) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> v.asLong();
            default -> throw wrongType(key, v, "an integer");
        };
    }

    /** The value of a FLOAT32/FLOAT64 (or integer) {@code key} as float, or {@code def} when absent. */
    public float getFloat(String key, float def) {
        GgufValue v = metadata.get(key);
        if (v == null) return def;
        return switch (v.type()) {
            case FLOAT32, FLOAT64, UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> v.asFloat();
            default -> throw wrongType(key, v, "a number");
        };
    }

    public boolean getBoolean(String key, boolean def) {
        GgufValue v = metadata.get(key);
        if (v == null) return def;
        if (v.type() != GgufValueType.BOOL) throw wrongType(key, v, "a bool");
        return v.asBoolean();
    }

    private ModelFormatException wrongType(String key, GgufValue v, String expected) {
        return new ModelFormatException(path, "metadata key '" + key + "' is " + v.type() + ", expected " + expected);
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    /** The info of tensor {@code name}, or null. */
    public GgufTensorInfo tensorInfo(String name) {
        return tensorsByName.get(name);
    }

    /** The raw bytes of tensor {@code name} as a slice of the mapping, or null when there is no such tensor. */
    public MemorySegment tensorData(String name) {
        GgufTensorInfo t = tensorsByName.get(name);
        return t == null ? null : mapping.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    /** A typed view of tensor {@code name} over the mapping, or null when there is no such tensor. */
    public FloatTensor tensor(String name) {
        GgufTensorInfo t = tensorsByName.get(name);
        return t == null ? null : Tensors.view(t.type(), tensorData(name), t.elements());
    }

    /** Unmaps the file; views handed out before become unusable (access throws IllegalStateException). */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    /** Reads the header out of the mapping with every length checked against the bytes left. */
    private static final class Parser {
        private final Path path;
        private final MemorySegment seg;
        private final long size;
        private long pos;
        private long valuesLeft = MAX_METADATA_VALUES;
        private long stringBytesLeft = MAX_METADATA_STRING_BYTES;

        Parser(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
            this.size = seg.byteSize();
        }

        private ModelFormatException fail(String problem) {
            return new ModelFormatException(path, problem);
        }

        private long remaining() {
            return size - pos;
        }

        private void need(long n, String what) {
            if (n > remaining()) {
                throw fail("truncated: " + what + " at offset " + pos + " needs " + n + " bytes but the file ends after "
                        + remaining());
            }
        }

        private int u8(String what) {
            need(1, what);
            return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
        }

        private int u16(String what) {
            need(2, what);
            int v = seg.get(U16, pos) & 0xFFFF;
            pos += 2;
            return v;
        }

        private int i32(String what) {
            need(4, what);
            int v = seg.get(U32, pos);
            pos += 4;
            return v;
        }

        private long u32(String what) {
            return i32(what) & 0xFFFFFFFFL;
        }

        private long u64(String what) {
            need(8, what);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        /** A uint64 count that must be a non-negative long and fit in the bytes left at minBytes each. */
        private long count(String what, long minBytesEach) {
            long at = pos;
            long n = u64(what);
            if (n < 0 || n > remaining() / minBytesEach) {
                throw fail(what + " at offset " + at + " is " + Long.toUnsignedString(n) + ", more than the "
                        + remaining() + " bytes left in the file can hold");
            }
            return n;
        }

        private String string(String what) {
            long len = count(what + " length", 1);
            if (len > stringBytesLeft) {
                throw fail(what + " length " + len + " exceeds the metadata string limit of "
                        + MAX_METADATA_STRING_BYTES + " bytes");
            }
            stringBytesLeft -= len;
            byte[] bytes = new byte[(int) len];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, (int) len);
            pos += len;
            return new String(bytes, StandardCharsets.UTF_8);
        }

        GgufFile parse(Arena arena) {
            if (size < 4) throw fail("truncated: " + size + " bytes is too short for a GGUF header");
            int magic = seg.get(U32, 0);
            if (magic != MAGIC) {
                throw fail(String.format("not a GGUF file: bad magic 0x%08X (expected \"GGUF\")", magic));
            }
            pos = 4;
            long version = u32("header version");
            if (version != 3 && version != 2) {
                throw fail("unsupported GGUF version " + version + " (supported: 2, 3)");
            }
            long tensorCount = count("tensor count", 24);  // name len 8 + n_dims 4 + type 4 + offset 8
            long kvCount = count("metadata key-value count", 13); // key len 8 + key >= 1 + type 4

            Map<String, GgufValue> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("metadata key #" + i);
                if (key.isEmpty()) throw fail("metadata key #" + i + " is empty");
                if (key.length() > 65535) throw fail("metadata key #" + i + " is longer than 65535 bytes");
                if (metadata.containsKey(key)) throw fail("duplicate metadata key '" + key + "'");
                GgufValueType type = valueType(u32("type of key '" + key + "'"), "key '" + key + "'");
                metadata.put(key, value(type, key, 0));
            }

            int alignment = DEFAULT_ALIGNMENT;
            GgufValue a = metadata.get(ALIGNMENT_KEY);
            if (a != null) {
                if (a.type() != GgufValueType.UINT32) {
                    throw fail("'" + ALIGNMENT_KEY + "' must be UINT32 but is " + a.type());
                }
                long al = a.asLong();
                if (al == 0 || al > (1L << 30) || (al & (al - 1)) != 0) {
                    throw fail("'" + ALIGNMENT_KEY + "' is " + al + ", not a power of two");
                }
                alignment = (int) al;
            }

            List<GgufTensorInfo> infos = new ArrayList<>();
            Map<String, GgufTensorInfo> byName = new HashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                GgufTensorInfo t = tensorInfo(i, alignment);
                if (byName.putIfAbsent(t.name(), t) != null) throw fail("duplicate tensor name '" + t.name() + "'");
                infos.add(t);
            }

            long dataOffset = pos;
            if (tensorCount > 0) {
                dataOffset = alignUp(pos, alignment);
                if (dataOffset > size) {
                    throw fail("truncated: the data section should start at offset " + dataOffset
                            + " but the file is " + size + " bytes");
                }
            }
            checkData(infos, size - dataOffset);
            int version32 = (int) version;
            return new GgufFile(path, arena, seg, version32, alignment, metadata, infos, dataOffset);
        }

        private GgufValueType valueType(long id, String where) {
            GgufValueType t = id > 255 ? null : GgufValueType.fromId((int) id);
            if (t == null) throw fail(where + " has unknown value type id " + id);
            return t;
        }

        private void spendValues(long n, String key) {
            if (n > valuesLeft) {
                throw fail("metadata key '" + key + "' brings the number of metadata values over the limit of "
                        + MAX_METADATA_VALUES);
            }
            valuesLeft -= n;
        }

        private static long minBytes(GgufValueType t) {
            return switch (t) {
                case UINT8, INT8, BOOL -> 1;
                case UINT16, INT16 -> 2;
                case UINT32, INT32, FLOAT32 -> 4;
                case UINT64, INT64, FLOAT64, STRING -> 8;
                case ARRAY -> 12;
            };
        }

        private GgufValue value(GgufValueType type, String key, int depth) {
            if (type != GgufValueType.ARRAY) {
                spendValues(1, key);
                return GgufValue.of(type, scalar(type, key));
            }
            if (depth >= MAX_NESTING) throw fail("metadata key '" + key + "' nests arrays deeper than " + MAX_NESTING);
            GgufValueType elementType = valueType(u32("array element type of key '" + key + "'"),
                    "array of key '" + key + "'");
            long n = count("array length of key '" + key + "'", minBytes(elementType));
            spendValues(n, key);
            List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 16));
            for (long i = 0; i < n; i++) {
                list.add(elementType == GgufValueType.ARRAY ? value(GgufValueType.ARRAY, key, depth + 1)
                        : scalar(elementType, key));
            }
            return new GgufValue(GgufValueType.ARRAY, elementType, Collections.unmodifiableList(list));
        }

        private Object scalar(GgufValueType type, String key) {
            String what = "value of key '" + key + "'";
            return switch (type) {
                case UINT8 -> u8(what);
                case INT8 -> (int) (byte) u8(what);
                case UINT16 -> u16(what);
                case INT16 -> (int) (short) u16(what);
                case UINT32 -> u32(what);
                case INT32 -> i32(what);
                case FLOAT32 -> {
                    need(4, what);
                    float f = seg.get(F32, pos);
                    pos += 4;
                    yield f;
                }
                case BOOL -> {
                    long at = pos;
                    int b = u8(what);
                    if (b > 1) throw fail("bool " + what + " at offset " + at + " is " + b + " (must be 0 or 1)");
                    yield b == 1;
                }
                case STRING -> string(what);
                case UINT64, INT64 -> u64(what);
                case FLOAT64 -> {
                    need(8, what);
                    double d = seg.get(F64, pos);
                    pos += 8;
                    yield d;
                }
                case ARRAY -> throw new IllegalStateException("arrays are read by value()");
            };
        }

        private GgufTensorInfo tensorInfo(long index, int alignment) {
            String name = string("name of tensor #" + index);
            String t = "tensor '" + name + "'";
            long nDims = u32("dimension count of " + t);
            if (nDims > MAX_DIMS) throw fail(t + " has " + nDims + " dimensions (at most " + MAX_DIMS + ")");
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = u64("dimension " + d + " of " + t);
                if (shape[d] < 0) throw fail(t + " dimension " + d + " is " + Long.toUnsignedString(shape[d]) + " (negative as int64)");
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw fail(t + " has too many elements: the product of its dimensions overflows int64");
                }
            }
            long typeId = u32("type of " + t);
            GgmlType type = typeId > Integer.MAX_VALUE ? null : GgmlType.fromId((int) typeId);
            if (type == null) throw fail(t + " has unknown tensor type id " + typeId);
            if (!type.supported) {
                throw fail(t + " has type " + type + " (id " + typeId + "), which this engine does not support");
            }
            long rowLength = nDims == 0 ? 1 : shape[0];
            if (rowLength % type.blockSize != 0) {
                throw fail(t + " of type " + type + " has rows of " + rowLength + " elements, not a multiple of the block size "
                        + type.blockSize);
            }
            if (elements / type.blockSize > Long.MAX_VALUE / type.typeSize) {
                throw fail(t + " is too large: its size in bytes overflows int64");
            }
            long offset = u64("data offset of " + t);
            if (offset < 0) throw fail(t + " has data offset " + Long.toUnsignedString(offset) + ", past any file");
            if (offset % alignment != 0) {
                throw fail(t + " has data offset " + offset + ", not a multiple of the alignment " + alignment);
            }
            return new GgufTensorInfo(name, shape, type, offset);
        }

        private void checkData(List<GgufTensorInfo> infos, long dataSize) {
            for (GgufTensorInfo t : infos) {
                long bytes = t.byteSize();
                if (t.offset() > dataSize || bytes > dataSize - t.offset()) {
                    throw fail("tensor '" + t.name() + "' data [" + t.offset() + ", " + (t.offset() + bytes)
                            + ") relative to the data section extends past the end of the file (data section is "
                            + dataSize + " bytes)");
                }
            }
            List<GgufTensorInfo> sorted = new ArrayList<>(infos);
            sorted.removeIf(t -> t.byteSize() == 0);
            sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
            for (int i = 1; i < sorted.size(); i++) {
                GgufTensorInfo prev = sorted.get(i - 1), cur = sorted.get(i);
                if (cur.offset() < prev.offset() + prev.byteSize()) {
                    throw fail("tensors '" + prev.name() + "' and '" + cur.name() + "' overlap in the data section");
                }
            }
        }
    }

    static long alignUp(long offset, long alignment) {
        return offset + (alignment - offset % alignment) % alignment;
    }
}
