package ai.autoglm.server.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events exactly as OpenAI frames them: {@code data: {json}\n\n} per chunk, then {@code data: [DONE]\n\n}.
 * Each event is flushed at once so that the client sees tokens as they come; a failed write means the client left.
 */
final class Sse {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private boolean failed;
    private boolean done;
    private final Runnable beforeDone;

    /** @param beforeDone runs before the final {@code [DONE]} event is flushed to the client (cache store, audit record) */
    Sse(OutputStream out, Runnable beforeDone) {
        this.out = out;
        this.beforeDone = beforeDone;
    }

    /** Sends an error object as the stream's last chunk (the status line went out long ago). */
    void error(ApiException e) throws IOException {
        failed = true;
        send(Json.error(e));
    }

    void send(JsonNode chunk) throws IOException {
        out.write(DATA);
        out.write(Json.bytes(chunk));
        out.write(END);
        out.flush();
    }

    /**
     * Ends the stream. {@code [DONE]} is written first (so a recording of the stream is whole) but only flushed after
     * {@code beforeDone} ran: the response's buffer holds these few bytes, so the client cannot see the end before
     * the audit record is on disk and the cache holds the answer.
     */
    void done() throws IOException {
        out.write(DONE);
        done = true;
        beforeDone.run();
        out.flush();
    }

    /** Whether the stream ended with {@code [DONE]} and no error chunk: a whole, successful answer. */
    boolean completed() {
        return done && !failed;
    }
}
