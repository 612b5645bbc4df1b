package ai.autoglm.core.format.gguf;

import java.util.List;

/**
 * One GGUF metadata value with its declared type, so a file can be rewritten with the same types.
 * Java representation: UINT8, INT8, UINT16, INT16, INT32 as {@link Integer}; UINT32, INT64, UINT64 as
 * {@link Long} (UINT64 values above Long.MAX_VALUE keep their two's-complement bits); FLOAT32 as
 * {@link Float}; FLOAT64 as {@link Double}; BOOL as {@link Boolean}; STRING as {@link String};
 * ARRAY as a {@code List<Object>} of elements of {@code elementType} in the same representation.
 *
 * @param type        the declared type
 * @param elementType for arrays, the element type; null otherwise
 * @param value       the value as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue of(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue string(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue uint32(long v) {
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    public String asString() {
        return (String) value;
    }

    public long asLong() {
        return ((Number) value).longValue();
    }

    public int asInt() {
        return Math.toIntExact(asLong());
    }

    public float asFloat() {
        return ((Number) value).floatValue();
    }

    public boolean asBoolean() {
        return (Boolean) value;
    }

    @SuppressWarnings("unchecked")
    public List<Object> asList() {
        return (List<Object>) value;
    }

    @SuppressWarnings("unchecked")
    public List<String> asStringList() {
        return (List<String>) value;
    }
}
