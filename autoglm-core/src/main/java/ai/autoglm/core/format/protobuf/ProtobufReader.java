package ai.autoglm.core.format.protobuf;

import ai.autoglm.core.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A reader of the protobuf wire format (protobuf.dev/programming-guides/encoding) over a byte range of a
 * {@link MemorySegment}: a message is a sequence of fields, each a tag varint {@code (field_number << 3) | wire_type}
 * then a VARINT (0), I64 (1, little-endian), LEN (2, a varint length then that many bytes) or I32 (5) payload.
 * Groups (wire types 3 and 4, deprecated) are refused.
 *
 * <p>Schema-free: the caller knows what the field numbers mean. Every read is bounds-checked against the range of
 * the message being read, so a hostile file (lengths past the end, overlong varints, bad wire types) gives a
 * {@link ModelFormatException} naming the file, the byte offset and what was being read, never an
 * out-of-bounds error. Length-delimited payloads are returned as sub-readers or slices (no copy).
 */
public final class ProtobufReader {
    public static final int VARINT = 0;
    public static final int I64 = 1;
    public static final int LEN = 2;
    public static final int I32 = 5;

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment data;
    private final String context;
    private final long end;
    private long pos;
    private int wireType = -1;
    private int fieldNumber;

    /** Reads {@code data[start, end)} as one message; {@code context} names it in errors (e.g. {@code ModelProto}). */
    public ProtobufReader(Path file, MemorySegment data, long start, long end, String context) {
        if (start < 0 || end < start || end > data.byteSize()) {
            throw new ModelFormatException(file, context + ": range [" + start + ", " + end + ") is outside the "
                    + data.byteSize() + " bytes of data");
        }
        this.file = file;
        this.data = data;
        this.context = context;
        this.pos = start;
        this.end = end;
    }

    /** Reads the whole segment as one message. */
    public ProtobufReader(Path file, MemorySegment data, String context) {
        this(file, data, 0, data.byteSize(), context);
    }

    public Path file() {
        return file;
    }

    public MemorySegment data() {
        return data;
    }

    /** Byte offset of the next read. */
    public long position() {
        return pos;
    }

    public ModelFormatException error(String problem) {
        return new ModelFormatException(file, context + " at byte " + pos + ": " + problem);
    }

    /** Whether another field follows in this message. */
    public boolean hasNext() {
        return pos < end;
    }

    /**
     * Reads the next field's tag and returns its field number; the payload must then be read with the method for
     * {@link #wireType()} or skipped with {@link #skip()}.
     */
    public int nextField() {
        long tag = readVarint();
        int wt = (int) (tag & 7);
        long number = tag >>> 3;
        if (number < 1 || number > 536_870_911L) { // field numbers are 1 .. 2^29 - 1
            throw error("invalid field number " + number);
        }
        if (wt != VARINT && wt != I64 && wt != LEN && wt != I32) {
            throw error("field " + number + " has wire type " + wt
                    + (wt == 3 || wt == 4 ? " (groups are not supported)" : " (not a protobuf wire type)"));
        }
        wireType = wt;
        fieldNumber = (int) number;
        return fieldNumber;
    }

    public int wireType() {
        return wireType;
    }

    /** A base-128 varint of at most 10 bytes (protobuf encoding "Base 128 Varints"). */
    public long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw error("varint runs past the end of the message");
            }
            byte b = data.get(ValueLayout.JAVA_BYTE, pos++);
            if (shift == 63 && (b & 0x7E) != 0) {
                throw error("varint does not fit in 64 bits");
            }
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw error("varint longer than 10 bytes");
    }

    public int readFixed32() {
        need(4, "fixed32");
        int v = data.get(INT_LE, pos);
        pos += 4;
        return v;
    }

    public long readFixed64() {
        need(8, "fixed64");
        long v = data.get(LONG_LE, pos);
        pos += 8;
        return v;
    }

    /** The payload of a LEN field as {@code [start, end)} byte offsets into {@link #data()}; the reader moves past it. */
    public long[] readLengthDelimitedRange() {
        expect(LEN);
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error("field " + fieldNumber + " declares " + Long.toUnsignedString(len) + " bytes, only "
                    + (end - pos) + " remain in the message");
        }
        long start = pos;
        pos += len;
        return new long[] {start, pos};
    }

    /** The payload of a LEN field as a slice of the data (no copy). */
    public MemorySegment readBytes() {
        long[] r = readLengthDelimitedRange();
        return data.asSlice(r[0], r[1] - r[0]);
    }

    /** A nested message; {@code what} names it in errors. */
    public ProtobufReader readMessage(String what) {
        long[] r = readLengthDelimitedRange();
        return new ProtobufReader(file, data, r[0], r[1], context + "." + what);
    }

    /** A LEN field holding UTF-8 text (at most {@code maxBytes}); malformed UTF-8 is an error. */
    public String readString(int maxBytes) {
        long[] r = readLengthDelimitedRange();
        long len = r[1] - r[0];
        if (len > maxBytes) {
            throw error("string field " + fieldNumber + " is " + len + " bytes, more than " + maxBytes);
        }
        byte[] bytes = data.asSlice(r[0], len).toArray(ValueLayout.JAVA_BYTE);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error("string field " + fieldNumber + " is not valid UTF-8");
        }
    }

    /** Skips the payload of the current field. */
    public void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case I64 -> {
                need(8, "fixed64");
                pos += 8;
            }
            case I32 -> {
                need(4, "fixed32");
                pos += 4;
            }
            case LEN -> readLengthDelimitedRange();
            default -> throw new IllegalStateException("nextField() was not called");
        }
    }

    /** Throws unless the current field has wire type {@code wt}. */
    public void expect(int wt) {
        if (wireType != wt) {
            throw error("field " + fieldNumber + " has wire type " + wireType + ", expected " + wt);
        }
    }

    private void need(int bytes, String what) {
        if (end - pos < bytes) {
            throw error(what + " runs past the end of the message");
        }
    }
}
