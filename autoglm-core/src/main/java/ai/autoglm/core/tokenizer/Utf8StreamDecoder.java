package ai.autoglm.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Turns a stream of token bytes into text without ever emitting half a character: one Chinese character or
 * emoji is often split over several byte-level tokens. Each {@link #push} returns the text that is complete
 * so far and holds back a trailing, still-incomplete UTF-8 sequence. Invalid bytes become U+FFFD, one per
 * maximal subpart as {@link Tokenizer#decode} (and HF / transformers.js) do, so however the bytes are
 * chunked, the concatenation of all outputs plus {@link #flush()} equals decoding all bytes at once.
 * Not thread-safe: one decoder per stream.
 */
public final class Utf8StreamDecoder {
    private byte[] pending = new byte[0];

    /** Adds the bytes of the next token; returns the newly completed text (possibly empty). */
    public String push(byte[] tokenBytes) {
        byte[] buf;
        if (pending.length == 0) {
            buf = tokenBytes;
        } else {
            ByteArrayOutputStream b = new ByteArrayOutputStream(pending.length + tokenBytes.length);
            b.writeBytes(pending);
            b.writeBytes(tokenBytes);
            buf = b.toByteArray();
        }
        int keep = incompleteTail(buf);
        pending = Arrays.copyOfRange(buf, buf.length - keep, buf.length);
        return Utf8.decode(buf, 0, buf.length - keep);
    }

    /** Ends the stream: whatever is held back is decoded (an incomplete sequence becomes U+FFFD). */
    public String flush() {
        String s = Utf8.decode(pending);
        pending = new byte[0];
        return s;
    }

    /** Whether bytes are being held back waiting for the rest of a character. */
    public boolean hasPending() {
        return pending.length > 0;
    }

    /**
     * Length of the trailing bytes that form a valid but unfinished UTF-8 sequence (0 if none). Only a
     * prefix that could still become a valid character is held back (Unicode Table 3-7 "Well-Formed UTF-8
     * Byte Sequences", including the narrowed second-byte ranges after E0, ED, F0, F4); anything else is
     * already invalid and is decoded (to U+FFFD) right away.
     */
    static int incompleteTail(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= 3 && back <= n; back++) {
            int lead = b[n - back] & 0xFF;
            if (lead >= 0x80 && lead < 0xC0) {
                continue; // continuation byte: keep looking for the lead byte
            }
            int need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
            if (need == 0 || back >= need) {
                return 0; // ASCII, invalid lead, or a sequence that is already complete (or over-long)
            }
            if (back >= 2) {
                int second = b[n - back + 1] & 0xFF;
                int lo = 0x80;
                int hi = 0xBF;
                switch (lead) {
                    case 0xE0 -> lo = 0xA0;
                    case 0xED -> hi = 0x9F;
                    case 0xF0 -> lo = 0x90;
                    case 0xF4 -> hi = 0x8F;
                    default -> {
                    }
                }
                if (second < lo || second > hi) {
                    return 0;
                }
            }
            return back;
        }
        return 0;
    }
}
