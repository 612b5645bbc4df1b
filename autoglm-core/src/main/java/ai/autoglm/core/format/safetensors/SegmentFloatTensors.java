package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Minimal scalar F32/F16/BF16 views over a (memory-mapped) segment, so safetensors weights are read in place.
 * TODO: replace with {@code ai.autoglm.core.tensor.Tensors.view(type, segment, elements)} (helper "gguf"),
 * which has the Vector API kernels, once it is on main.
 */
final class SegmentFloatTensors {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SegmentFloatTensors() {
    }

    static FloatTensor view(GgmlType type, MemorySegment data, long elements) {
        if (data.byteSize() != type.bytesFor(elements)) {
            throw new IllegalArgumentException(type + " view of " + elements + " elements needs " + type.bytesFor(elements)
                    + " bytes, got " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new View(type, data, elements) {
                @Override
                public float getFloat(long i) {
                    return data.getAtIndex(F32_LE, i);
                }
            };
            // IEEE 754 binary16, little-endian.
            case F16 -> new View(type, data, elements) {
                @Override
                public float getFloat(long i) {
                    return Float.float16ToFloat(data.getAtIndex(I16_LE, i));
                }
            };
            // bfloat16 is the upper half of a binary32.
            case BF16 -> new View(type, data, elements) {
                @Override
                public float getFloat(long i) {
                    return Float.intBitsToFloat(data.getAtIndex(I16_LE, i) << 16);
                }
            };
            default -> throw new IllegalArgumentException("no view for " + type);
        };
    }

    private abstract static class View extends FloatTensor {
        final GgmlType type;
        final MemorySegment data;
        final long elements;

        View(GgmlType type, MemorySegment data, long elements) {
            this.type = type;
            this.data = data;
            this.elements = elements;
        }

        @Override
        public long size() {
            return elements;
        }

        @Override
        public GgmlType type() {
            return type;
        }
    }
}
