package ai.autoglm.core.format.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-assembles GGUF bytes (docs/gguf.md) for hostile-input tests, independent of GgufWriter. */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static GgufBytes header(long version, long tensorCount, long kvCount) {
        GgufBytes b = new GgufBytes();
        b.raw("GGUF".getBytes(StandardCharsets.US_ASCII));
        return b.u32(version).u64(tensorCount).u64(kvCount);
    }

    GgufBytes raw(byte[] bytes) {
        out.write(bytes, 0, bytes.length);
        return this;
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u32(long v) {
        for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    GgufBytes u64(long v) {
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    /** A key with a scalar UINT32 value. */
    GgufBytes kvU32(String key, long v) {
        return str(key).u32(GgufValueType.UINT32.id).u32(v);
    }

    GgufBytes tensor(String name, long[] dims, int type, long offset) {
        str(name).u32(dims.length);
        for (long d : dims) u64(d);
        return u32(type).u64(offset);
    }

    GgufBytes padTo(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    GgufBytes zeros(int n) {
        return raw(new byte[n]);
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
