package ai.autoglm.server.api;

import ai.autoglm.server.gateway.CachedResponse;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Keeps a copy of the bytes of one response for the cache, giving up (no result) past the size limit. */
final class ResponseRecorder {
    private final long maxBytes;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();
    private String contentType;
    private boolean overflow;

    ResponseRecorder(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    void whole(String contentType, byte[] body) {
        this.contentType = contentType;
        keep(body, 0, body.length);
    }

    /** The stream, with everything written to it also kept. */
    OutputStream tee(String contentType, OutputStream out) {
        this.contentType = contentType;
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                keep(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                keep(b, off, len);
            }
        };
    }

    private void keep(byte[] b, int off, int len) {
        if (overflow) return;
        if (copy.size() + (long) len > maxBytes) {
            overflow = true;
            copy.reset();
            return;
        }
        copy.write(b, off, len);
    }

    CachedResponse result() {
        return overflow || contentType == null ? null : new CachedResponse(contentType, copy.toByteArray());
    }
}
