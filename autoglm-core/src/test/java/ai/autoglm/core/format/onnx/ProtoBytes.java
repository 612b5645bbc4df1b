package ai.autoglm.core.format.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A minimal protobuf encoder for building test messages (protobuf.dev encoding guide), written apart from the reader. */
final class ProtoBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoBytes varintField(int field, long v) {
        tag(field, 0);
        varint(v);
        return this;
    }

    ProtoBytes fixed32Field(int field, int v) {
        tag(field, 5);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        return this;
    }

    ProtoBytes bytesField(int field, byte[] b) {
        tag(field, 2);
        varint(b.length);
        out.writeBytes(b);
        return this;
    }

    ProtoBytes stringField(int field, String s) {
        return bytesField(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoBytes messageField(int field, ProtoBytes m) {
        return bytesField(field, m.bytes());
    }

    ProtoBytes packedVarints(int field, long... vs) {
        ProtoBytes p = new ProtoBytes();
        for (long v : vs) p.varint(v);
        return bytesField(field, p.bytes());
    }

    ProtoBytes raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    void tag(int field, int wire) {
        varint(((long) field << 3) | wire);
    }

    void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    static byte[] floatsLe(float... fs) {
        ByteBuffer b = ByteBuffer.allocate(4 * fs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : fs) b.putFloat(f);
        return b.array();
    }
}
