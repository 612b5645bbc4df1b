package ai.autoglm.server.api;

import ai.autoglm.server.gateway.CachedResponse;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.server.gateway.GatewayExchange;
import ai.autoglm.server.gateway.Principal;
import ai.autoglm.server.gateway.RequestContext;
import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.List;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.OptionalLong;
import java.util.function.IntConsumer;

/**
 * One HTTP request and its response, as the endpoints need them: a size-limited body, JSON, an event stream. The
 * completion hook (the gateway's audit record) runs once, just before the response's last byte: before a whole
 * body is sent, before a stream's final {@code [DONE]} event.
 */
final class HttpExchange implements GatewayExchange {
    private final ServerRequest req;
    private final ServerResponse res;
    private final long maxBodyBytes;
    private final RequestContext context = new RequestContext();
    private int status = 200;
    private OutputStream stream;
    private Sse sse;
    /** Captures the response for the cache when set: the bytes sent, up to a limit. */
    private ResponseRecorder recorder;
    private ClientConnections.Watch watch;
    private volatile boolean clientGone;
    private Principal principal = Principal.OPEN;
    /** Run once before the response completes, first: the audit record (throws when it cannot be written). */
    private IntConsumer audit = status -> { };
    /** Run once, in the order added, after the audit record: the cache store. */
    private final List<IntConsumer> beforeComplete = new ArrayList<>();
    private boolean audited;
    private boolean completed;
    /** The connection must not be reused after this answer (its request's framing was broken, or the client asked). */
    private boolean closeConnection;

    HttpExchange(ServerRequest req, ServerResponse res, long maxBodyBytes) {
        this.req = req;
        this.res = res;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** The body, or 413 when it is larger than the limit (checked against Content-Length first, then while reading). */
    byte[] body() throws IOException {
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) throw tooLarge();
        try (InputStream in = req.content().inputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
            if (b.length > maxBodyBytes) throw tooLarge();
            return b;
        } catch (ApiException e) {
            throw e;
        } catch (RuntimeException e) {
            // Helidon reports broken framing as whatever its reader throws: NumberFormatException for a chunk size
            // that is not hex, DataReader.InsufficientDataAvailableException for a body that ends before its
            // Content-Length, RequestException for a bad last chunk. Where the next request would start is unknown
            // now, so the answer closes the connection (RFC 9112 §6.3, §7.1).
            closeConnection = true;
            boolean chunked = req.headers().contains(io.helidon.http.HeaderValues.TRANSFER_ENCODING_CHUNKED);
            throw new ApiException(400, "invalid_request_error", null, "malformed_body", chunked
                    ? "the request body is not valid chunked transfer encoding (a chunk size must be hexadecimal, followed by CRLF)"
                    : "the request body ended before the " + declared.orElse(0) + " bytes its Content-Length declares");
        }
    }

    /**
     * 431 (RFC 6585 §5) when the request's headers are larger than {@code max} bytes (counted as sent: name, ": ",
     * value, CRLF). Helidon's own header limit is set higher (see AutoglmServer), because it can only answer an
     * empty 400; this check gives the documented 431 with an error object, and closes the connection.
     */
    void checkHeadSize(int max) {
        long size = 0;
        for (io.helidon.http.Header h : req.headers()) {
            for (String v : h.allValues()) size += h.name().length() + 2 + v.length() + 2;
        }
        if (size > max) {
            closeConnection = true;
            throw new ApiException(431, "invalid_request_error", null, "request_header_fields_too_large",
                    "the request's headers are " + size + " bytes, more than this server's limit of " + max + " (security.max-header-bytes)");
        }
    }

    /** Whether the connection closes after this answer; see {@link #body} and {@link #clientAskedToClose}. */
    boolean closesConnection() {
        return closeConnection || clientAskedToClose();
    }

    /** {@code Connection: close} in the request (RFC 9112 §9.6): the server closes after its answer. */
    private boolean clientAskedToClose() {
        return req.headers().all(HeaderNames.CONNECTION, List::of).stream()
                .flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .anyMatch(t -> t.strip().equalsIgnoreCase("close"));
    }

    private ApiException tooLarge() {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body is larger than the server's limit of " + maxBodyBytes + " bytes");
    }

    /**
     * Cancels {@code job} (freeing its slot at the scheduler's next step) if the client disconnects before the answer
     * is sent; for non-streamed answers, where nothing is written until the end (see {@link ClientConnections}).
     */
    void cancelWhenClientLeaves(GenerationJob job) {
        watch = ClientConnections.watch(() -> {
            clientGone = true;
            context.clientGone(true);
            status = 499; // nginx's "client closed request", for the metrics
            job.cancel();
        });
    }

    void sendJson(int status, JsonNode body) {
        send(status, "application/json", Json.bytes(body));
    }

    void send(int status, String contentType, byte[] body) {
        if (clientGone) {
            // Nobody reads it; answering anyway keeps Helidon from treating the route as broken.
            try {
                res.status(499).send();
            } catch (RuntimeException ignored) {
                // the connection is gone
            }
            return;
        }
        boolean closeAfter = watch != null && watch.stop();
        this.status = status;
        if (recorder != null) recorder.whole(contentType, body);
        complete(); // before the bytes leave: the client must not see the answer before the cache and audit do
        res.status(status);
        res.header("Content-Type", contentType);
        if (closeAfter || closeConnection) res.header("Connection", "close");
        res.send(body);
        if (closeAfter) watch.endsConnection();
    }

    void sendError(ApiException e) {
        e.headers().forEach(res::header);
        sendJson(e.status(), Json.error(e));
    }

    /** Commits a 200 {@code text/event-stream} response. */
    Sse startEventStream() {
        res.status(200);
        res.header("Content-Type", EVENT_STREAM);
        res.header("Cache-Control", "no-cache");
        stream = res.outputStream();
        sse = new Sse(recorder == null ? stream : recorder.tee(EVENT_STREAM, stream), this::runAudit, this::runHooks);
        return sse;
    }

    static final String EVENT_STREAM = "text/event-stream; charset=utf-8";

    /** From now on, capture what is sent (up to {@code maxBytes}) for {@link #recorded}. */
    void record(long maxBytes) {
        recorder = new ResponseRecorder(maxBytes);
    }

    /** The whole successful answer as sent (a 200 JSON body, or a stream that reached [DONE] without an error), or null. */
    CachedResponse recorded() {
        if (recorder == null || status != 200 || (sse != null && !sse.completed())) return null;
        return recorder.result();
    }

    /** An answer without a body (a CORS preflight's 204). */
    void sendEmpty(int status) {
        this.status = status;
        complete();
        res.status(status);
        res.send();
    }

    /** Sets what writes the request's audit record, once, before anything else completes; it gets the status. */
    void onAudit(IntConsumer hook) {
        this.audit = hook;
    }

    /** Adds what runs once before the response completes, after the audit record (the cache store); it gets the status. */
    void beforeComplete(IntConsumer hook) {
        beforeComplete.add(hook);
    }

    /**
     * Writes the audit record then runs the completion hooks, unless they ran already (called before sending, and
     * at the end for failed streams).
     *
     * @throws ai.autoglm.server.security.AuditUnavailableException when the record cannot be written (the hooks then do
     *                                                             not run: nothing is cached)
     */
    void complete() {
        runAudit();
        runHooks();
    }

    private void runAudit() {
        if (audited) return;
        audited = true;
        audit.accept(status);
    }

    private void runHooks() {
        if (completed) return;
        completed = true;
        for (IntConsumer hook : beforeComplete) hook.accept(status);
    }

    /** A generation's end: its token counts and the text as sent (for the audit record when it keeps text). */
    void finished(JobEvent.Finished done, String sentText) {
        context.tokens(done.promptTokens(), done.completionTokens());
        context.outputText(sentText);
    }

    /**
     * The client left mid-answer (a write failed, or the connection watch saw it go): the audit records outcome
     * {@code cancelled} with the tokens generated for it until then, which are charged to its quota.
     */
    void clientLeft(int promptTokens, int completionTokens, String sentText) {
        clientGone = true;
        context.clientGone(true);
        context.tokens(promptTokens, completionTokens);
        context.outputText(sentText);
    }

    /** Tokens used by a generation that ended without its Finished event (a failure, a client gone). */
    void used(int promptTokens, int completionTokens) {
        context.tokens(promptTokens, completionTokens);
    }

    boolean clientGone() {
        return clientGone;
    }

    Principal principal() {
        return principal;
    }

    void principal(Principal p) {
        this.principal = p;
    }

    @Override
    public String method() {
        return req.prologue().method().text();
    }

    @Override
    public String header(String name) {
        return req.headers().first(HeaderNames.create(name)).orElse(null);
    }

    @Override
    public void responseHeader(String name, String value) {
        res.header(name, value);
    }

    @Override
    public String clientAddress() {
        try {
            return req.remotePeer().address() instanceof java.net.InetSocketAddress a && a.getAddress() != null
                    ? a.getAddress().getHostAddress() : null;
        } catch (RuntimeException unknown) {
            return null;
        }
    }

    boolean streaming() {
        return stream != null;
    }

    /** Ends a streamed response (closing its stream). */
    void finishStream() {
        try {
            if (stream != null) stream.close();
        } catch (IOException | RuntimeException ignored) {
            // the client is gone already
        }
    }

    boolean sent() {
        return res.isSent();
    }

    int status() {
        return status;
    }

    /** What the gateway learns about this request, for its audit record. */
    RequestContext context() {
        return context;
    }

    ServerRequest request() {
        return req;
    }
}
