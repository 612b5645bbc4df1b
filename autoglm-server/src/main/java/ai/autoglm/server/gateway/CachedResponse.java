package ai.autoglm.server.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A stored answer: its content type and exact body bytes (a JSON completion, or a whole event stream from the first
 * {@code data:} to {@code data: [DONE]}). A hit sends these bytes with a fresh {@code id} and {@code created}
 * ({@code CachedAnswers}), so it never shows another request's id or time.
 */
public record CachedResponse(String contentType, byte[] body) {
    /** Serialized form for a byte store: content-type length (4 bytes), content type (UTF-8), body. */
    byte[] encode() {
        byte[] ct = contentType.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + ct.length + body.length).putInt(ct.length).put(ct).put(body).array();
    }

    /** @return null when the bytes are not an encoded response (then the entry is treated as a miss) */
    static CachedResponse decode(byte[] bytes) {
        if (bytes == null || bytes.length < 4) return null;
        ByteBuffer b = ByteBuffer.wrap(bytes);
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) return null;
        byte[] ct = new byte[n];
        b.get(ct);
        byte[] body = new byte[b.remaining()];
        b.get(body);
        return new CachedResponse(new String(ct, StandardCharsets.UTF_8), body);
    }

    int weight() {
        return contentType.length() + body.length + 64;
    }
}
