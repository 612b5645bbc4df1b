package ai.autoglm.server.api;

import ai.autoglm.server.security.AuditUnavailableException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events exactly as OpenAI frames them: {@code data: {json}\n\n} per chunk, then {@code data: [DONE]\n\n}.
 * Each event is flushed at once so that the client sees tokens as they come; a failed write means the client left
 * ({@link ClientGoneException}, whatever the transport threw).
 */
final class Sse {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private boolean failed;
    private boolean done;
    private final Runnable audit;
    private final Runnable afterDone;

    /**
     * @param audit     writes the audit record, before {@code [DONE]} is written; throws
     *                  {@link AuditUnavailableException} when it cannot
     * @param afterDone runs once {@code [DONE]} is written but before it is flushed to the client (the cache store)
     */
    Sse(OutputStream out, Runnable audit, Runnable afterDone) {
        this.out = out;
        this.audit = audit;
        this.afterDone = afterDone;
    }

    /** Sends an error object as the stream's last chunk (the status line went out long ago). */
    void error(ApiException e) throws IOException {
        failed = true;
        send(Json.error(e));
    }

    void send(JsonNode chunk) throws IOException {
        byte[] json = Json.bytes(chunk);
        try {
            out.write(DATA);
            out.write(json);
            out.write(END);
            out.flush();
        } catch (IOException | RuntimeException e) {
            throw new ClientGoneException(e);
        }
    }

    /**
     * Ends the stream. The audit record is written first: when it cannot be, the stream ends with an
     * {@code audit_unavailable} error event instead of {@code [DONE]} (and the exception goes on), so that no client
     * takes a stream the trail does not record for a whole answer. Then {@code [DONE]} is written (so a recording of
     * the stream is whole) but only flushed after {@code afterDone} (the cache store) ran.
     */
    void done() throws IOException {
        try {
            audit.run();
        } catch (AuditUnavailableException e) {
            error(ApiException.auditUnavailable());
            throw e;
        }
        try {
            out.write(DONE);
        } catch (IOException | RuntimeException e) {
            throw new ClientGoneException(e);
        }
        done = true;
        afterDone.run();
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            throw new ClientGoneException(e);
        }
    }

    /** Whether the stream ended with {@code [DONE]} and no error chunk: a whole, successful answer. */
    boolean completed() {
        return done && !failed;
    }
}
