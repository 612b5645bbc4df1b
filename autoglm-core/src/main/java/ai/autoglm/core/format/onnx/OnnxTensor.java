package ai.autoglm.core.format.onnx;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Tensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One ONNX {@code TensorProto} (onnx/onnx.proto): a name, dims (row-major, last dimension innermost), an element
 * type ({@code TensorProto.DataType}) and the values, which this reader keeps as little-endian bytes: either the
 * {@code raw_data} field as stored in the file (no copy), or the typed {@code float_data} / {@code int64_data}
 * fields re-encoded as little-endian bytes.
 *
 * @param data exactly {@code elementCount() * elementSize} little-endian bytes
 */
public record OnnxTensor(Path file, String name, long[] dims, int dataType, MemorySegment data) {
    /** TensorProto.DataType values this reader understands (onnx.proto: FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11). */
    public static final int FLOAT = 1;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int DOUBLE = 11;

    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes per element of a data type, or 0 when this reader does not know it. */
    static int elementSize(int dataType) {
        return switch (dataType) {
            case FLOAT, INT32 -> 4;
            case INT64, DOUBLE -> 8;
            case 2, 3, 9 -> 1;  // UINT8, INT8, BOOL
            case 4, 5, 10, 16 -> 2; // UINT16, INT16, FLOAT16, BFLOAT16
            case 12 -> 4; // UINT32
            case 13 -> 8; // UINT64
            default -> 0;
        };
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d; // checked when the tensor was read
        return n;
    }

    /** A float view of a FLOAT tensor (over the file's bytes when they were raw_data). */
    public FloatTensor floatTensor() {
        if (dataType != FLOAT) {
            throw new ModelFormatException(file, "tensor '" + name + "' has data type " + dataType + ", expected FLOAT (1)");
        }
        return Tensors.view(GgmlType.F32, data, elementCount());
    }

    /** All values of a FLOAT tensor copied to the heap. */
    public float[] floats() {
        if (dataType != FLOAT) {
            throw new ModelFormatException(file, "tensor '" + name + "' has data type " + dataType + ", expected FLOAT (1)");
        }
        return data.toArray(FLOAT_LE);
    }

    /** The values of a small integer or floating-point tensor as doubles (Constant nodes: shapes, epsilons, scales). */
    public double[] numbers() {
        long n = elementCount();
        if (n > 1 << 16) {
            throw new ModelFormatException(file, "tensor '" + name + "' has " + n + " elements, too many to read as numbers");
        }
        double[] out = new double[(int) n];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dataType) {
                case FLOAT -> data.get(FLOAT_LE, 4L * i);
                case DOUBLE -> data.get(DOUBLE_LE, 8L * i);
                case INT32 -> data.get(INT_LE, 4L * i);
                case INT64 -> data.get(LONG_LE, 8L * i);
                default -> throw new ModelFormatException(file, "tensor '" + name + "' has data type " + dataType
                        + ", expected a number type");
            };
        }
        return out;
    }

    @Override
    public String toString() {
        return "OnnxTensor[" + name + " " + Arrays.toString(dims) + " type " + dataType + "]";
    }
}
