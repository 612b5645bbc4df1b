package ai.autoglm.core.format.onnx;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.protobuf.ProtobufReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model file (a serialized {@code ModelProto}, onnx/onnx.proto) read for its weights and the structure of its
 * graph: the graph's nodes in order, its initializers (the weights) and the names of its inputs and outputs. Field
 * numbers are those of onnx.proto:
 * <ul>
 *   <li>ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8;</li>
 *   <li>GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12, sparse_initializer = 15;</li>
 *   <li>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5;</li>
 *   <li>AttributeProto: name = 1, f = 2, i = 3, t = 5;</li>
 *   <li>TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8,
 *       raw_data = 9, double_data = 10, external_data = 13, data_location = 14;</li>
 *   <li>ValueInfoProto: name = 1.</li>
 * </ul>
 * Unknown fields are skipped, as protobuf readers do. Tensors with their data in external files are refused. Weights
 * stored as {@code raw_data} stay in the (memory-mapped) file; nothing is copied.
 */
public final class OnnxModel implements AutoCloseable {
    private static final int MAX_NAME_BYTES = 1 << 16;
    private static final int MAX_DIMS = 16;

    private final Path file;
    private final Arena arena;
    private long irVersion;
    private String producer = "";
    private final List<OnnxNode> nodes = new ArrayList<>();
    private final Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
    private final List<String> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();

    private OnnxModel(Path file, Arena arena) {
        this.file = file;
        this.arena = arena;
    }

    /** Memory-maps and reads an {@code .onnx} file. */
    public static OnnxModel open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            OnnxModel m = new OnnxModel(file, arena);
            m.parse(data);
            return m;
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Reads a model already in memory ({@code name} is used in error messages, e.g. {@code model.jar!/x.onnx}). */
    public static OnnxModel read(Path name, MemorySegment data) {
        OnnxModel m = new OnnxModel(name, null);
        m.parse(data);
        return m;
    }

    public Path file() {
        return file;
    }

    public long irVersion() {
        return irVersion;
    }

    /** producer_name and producer_version, e.g. {@code pytorch 2.0.1}. */
    public String producer() {
        return producer;
    }

    /** The graph's nodes in their stored (topological) order. */
    public List<OnnxNode> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    /** Initializers by name, in stored order. */
    public Map<String, OnnxTensor> initializers() {
        return Collections.unmodifiableMap(initializers);
    }

    public List<String> inputs() {
        return Collections.unmodifiableList(inputs);
    }

    public List<String> outputs() {
        return Collections.unmodifiableList(outputs);
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }

    private void parse(MemorySegment data) {
        if (data.byteSize() == 0) {
            throw new ModelFormatException(file, "empty file, not an ONNX model");
        }
        ProtobufReader model = new ProtobufReader(file, data, "ModelProto");
        boolean sawGraph = false;
        String producerName = "";
        String producerVersion = "";
        while (model.hasNext()) {
            switch (model.nextField()) {
                case 1 -> {
                    model.expect(ProtobufReader.VARINT);
                    irVersion = model.readVarint();
                }
                case 2 -> producerName = model.readString(MAX_NAME_BYTES);
                case 3 -> producerVersion = model.readString(MAX_NAME_BYTES);
                case 7 -> {
                    if (sawGraph) throw model.error("more than one graph");
                    parseGraph(model.readMessage("graph"));
                    sawGraph = true;
                }
                default -> model.skip();
            }
        }
        if (!sawGraph) {
            throw new ModelFormatException(file, "no graph in the ModelProto (not an ONNX model?)");
        }
        producer = (producerName + " " + producerVersion).trim();
    }

    private void parseGraph(ProtobufReader g) {
        while (g.hasNext()) {
            switch (g.nextField()) {
                case 1 -> nodes.add(parseNode(g.readMessage("node[" + nodes.size() + "]")));
                case 5 -> {
                    OnnxTensor t = parseTensor(g.readMessage("initializer[" + initializers.size() + "]"));
                    if (initializers.putIfAbsent(t.name(), t) != null) {
                        throw g.error("two initializers named '" + t.name() + "'");
                    }
                }
                case 11 -> inputs.add(valueInfoName(g.readMessage("input")));
                case 12 -> outputs.add(valueInfoName(g.readMessage("output")));
                case 15 -> throw g.error("sparse initializers are not supported");
                default -> g.skip();
            }
        }
    }

    private static String valueInfoName(ProtobufReader v) {
        String name = "";
        while (v.hasNext()) {
            if (v.nextField() == 1) name = v.readString(MAX_NAME_BYTES);
            else v.skip();
        }
        return name;
    }

    private OnnxNode parseNode(ProtobufReader n) {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String op = "";
        Map<String, Long> ints = new LinkedHashMap<>();
        Map<String, Float> floats = new LinkedHashMap<>();
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        while (n.hasNext()) {
            switch (n.nextField()) {
                case 1 -> in.add(n.readString(MAX_NAME_BYTES));
                case 2 -> out.add(n.readString(MAX_NAME_BYTES));
                case 3 -> name = n.readString(MAX_NAME_BYTES);
                case 4 -> op = n.readString(MAX_NAME_BYTES);
                case 5 -> parseAttribute(n.readMessage("attribute"), ints, floats, tensors);
                default -> n.skip();
            }
        }
        return new OnnxNode(name, op, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(ints),
                Collections.unmodifiableMap(floats), Collections.unmodifiableMap(tensors));
    }

    private void parseAttribute(ProtobufReader a, Map<String, Long> ints, Map<String, Float> floats,
                                Map<String, OnnxTensor> tensors) {
        String name = "";
        Long i = null;
        Float f = null;
        OnnxTensor t = null;
        while (a.hasNext()) {
            switch (a.nextField()) {
                case 1 -> name = a.readString(MAX_NAME_BYTES);
                case 2 -> {
                    a.expect(ProtobufReader.I32);
                    f = Float.intBitsToFloat(a.readFixed32());
                }
                case 3 -> {
                    a.expect(ProtobufReader.VARINT);
                    i = a.readVarint();
                }
                case 5 -> t = parseTensor(a.readMessage("t"));
                default -> a.skip();
            }
        }
        if (i != null) ints.put(name, i);
        if (f != null) floats.put(name, f);
        if (t != null) tensors.put(name, t);
    }

    /** Growable little-endian byte buffer for typed (non-raw) tensor values. */
    private static final class LeBytes {
        private ByteBuffer buf = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

        ByteBuffer room(int bytes) {
            if (buf.remaining() < bytes) {
                long want = Math.max((long) buf.capacity() * 2, (long) buf.position() + bytes);
                if (want > Integer.MAX_VALUE - 8) throw new IllegalStateException("too large");
                ByteBuffer b = ByteBuffer.allocate((int) want).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                b.put(buf);
                buf = b;
            }
            return buf;
        }

        MemorySegment segment() {
            return MemorySegment.ofArray(java.util.Arrays.copyOf(buf.array(), buf.position()));
        }
    }

    private OnnxTensor parseTensor(ProtobufReader t) {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        MemorySegment raw = null;
        LeBytes typed = null;
        int typedField = 0;
        boolean external = false;
        while (t.hasNext()) {
            int field = t.nextField();
            switch (field) {
                case 1 -> readInt64s(t, dims);
                case 2 -> {
                    t.expect(ProtobufReader.VARINT);
                    long v = t.readVarint();
                    if (v < 0 || v > 64) throw t.error("invalid data_type " + v);
                    dataType = (int) v;
                }
                case 8 -> name = t.readString(MAX_NAME_BYTES);
                case 9 -> raw = t.readBytes();
                case 4, 5, 7, 10 -> {
                    if (typed == null) {
                        typed = new LeBytes();
                        typedField = field;
                    } else if (typedField != field) {
                        throw t.error("tensor '" + name + "' has values in two typed fields (" + typedField + ", " + field + ")");
                    }
                    readTyped(t, field, typed);
                }
                case 13 -> {
                    external = true;
                    t.skip();
                }
                case 14 -> {
                    t.expect(ProtobufReader.VARINT);
                    if (t.readVarint() == 1) external = true; // DataLocation.EXTERNAL
                }
                default -> t.skip();
            }
        }
        if (external) {
            throw new ModelFormatException(file, "tensor '" + name + "' keeps its data in an external file "
                    + "(data_location EXTERNAL), which is not supported: save the model with its weights inside");
        }
        if (dims.size() > MAX_DIMS) {
            throw new ModelFormatException(file, "tensor '" + name + "' has " + dims.size() + " dimensions");
        }
        long[] d = new long[dims.size()];
        long count = 1;
        for (int i = 0; i < d.length; i++) {
            d[i] = dims.get(i);
            if (d[i] < 0) throw new ModelFormatException(file, "tensor '" + name + "' has a negative dimension " + d[i]);
            try {
                count = Math.multiplyExact(count, d[i]);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(file, "tensor '" + name + "' has dimensions whose product overflows");
            }
        }
        int size = OnnxTensor.elementSize(dataType);
        MemorySegment data = raw != null ? raw : typed != null ? typed.segment() : MemorySegment.ofArray(new byte[0]);
        if (size == 0) {
            // A type this reader does not know: keep the tensor so the graph still loads; reading its values fails.
            return new OnnxTensor(file, name, d, dataType, MemorySegment.ofArray(new byte[0]));
        }
        if (typed != null && raw == null) {
            int typedSize = typedField == 4 || typedField == 5 ? 4 : 8;
            if (typedSize != size || (typedField == 4 && dataType != OnnxTensor.FLOAT)
                    || (typedField == 10 && dataType != OnnxTensor.DOUBLE)) {
                throw new ModelFormatException(file, "tensor '" + name + "' of data type " + dataType
                        + " stores its values in field " + typedField + ", which this reader does not convert");
            }
        }
        long expected = count > Long.MAX_VALUE / size ? -1 : count * size;
        if (expected != data.byteSize()) {
            throw new ModelFormatException(file, "tensor '" + name + "' with dims " + java.util.Arrays.toString(d)
                    + " needs " + (expected < 0 ? "more than 2^63" : String.valueOf(expected)) + " bytes of data, has "
                    + data.byteSize());
        }
        return new OnnxTensor(file, name, d, dataType, data);
    }

    /** A repeated int64 field, packed (one LEN payload of varints) or not (one VARINT per element). */
    private static void readInt64s(ProtobufReader t, List<Long> out) {
        if (t.wireType() == ProtobufReader.VARINT) {
            out.add(t.readVarint());
            return;
        }
        ProtobufReader packed = t.readMessage("packed");
        while (packed.hasNext()) {
            if (out.size() > MAX_DIMS) throw t.error("too many dims");
            out.add(packed.readVarint());
        }
    }

    private static void readTyped(ProtobufReader t, int field, LeBytes out) {
        boolean fixed32 = field == 4;   // float_data: packed floats or I32 fields
        boolean fixed64 = field == 10;  // double_data
        try {
            if (t.wireType() == ProtobufReader.LEN) {
                if (fixed32 || fixed64) {
                    MemorySegment s = t.readBytes();
                    int width = fixed32 ? 4 : 8;
                    if (s.byteSize() % width != 0) throw t.error("packed field " + field + " is not a whole number of values");
                    if (s.byteSize() > Integer.MAX_VALUE - 16) throw t.error("packed field " + field + " too large");
                    out.room((int) s.byteSize()).put(s.toArray(ValueLayout.JAVA_BYTE));
                } else {
                    ProtobufReader packed = t.readMessage("packed");
                    while (packed.hasNext()) {
                        long v = packed.readVarint();
                        if (field == 5) out.room(4).putInt((int) v);
                        else out.room(8).putLong(v);
                    }
                }
            } else if (fixed32) {
                t.expect(ProtobufReader.I32);
                out.room(4).putInt(t.readFixed32());
            } else if (fixed64) {
                t.expect(ProtobufReader.I64);
                out.room(8).putLong(t.readFixed64());
            } else {
                t.expect(ProtobufReader.VARINT);
                long v = t.readVarint();
                if (field == 5) out.room(4).putInt((int) v);
                else out.room(8).putLong(v);
            }
        } catch (IllegalStateException e) {
            throw t.error("typed values of field " + field + " are too large");
        }
    }
}
