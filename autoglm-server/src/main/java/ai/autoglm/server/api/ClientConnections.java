package ai.autoglm.server.api;

import io.helidon.http.Headers;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Notices that the client of a non-streamed request closed its connection while the handler waits for the engine,
 * so that its slot is freed at the next step instead of after the whole answer (a streamed request notices on its
 * next write).
 *
 * <p>Helidon SE 4.5 tells a handler nothing about its connection: {@code ServerRequest} does not expose the
 * {@link ConnectionContext}, and the server never reads the socket while a handler runs (HTTP/2 PING-based
 * detection is still an open request, helidon-io/helidon#10834). {@code HelidonSocket.idle()}/{@code isConnected()}
 * look right but are built for the client's connection cache: on a server socket (SO_TIMEOUT 0) the idle reader
 * gives up after its first 101 ms poll and reports the connection closed ({@code IdleInputStream.handle}).
 *
 * <p>So: Helidon's HTTP/1 receive listener sees each request's headers on the connection's own thread, which then
 * runs the handler (one virtual thread per connection); {@link #LISTENER} keeps that thread's
 * {@link ConnectionContext}. {@link #watch} then reads the connection's {@code DataReader} on a virtual thread: a
 * client waiting for its answer sends nothing, so the read only returns at end of stream or reset (the client is
 * gone) or when a pipelining client sends its next request (the bytes stay in Helidon's own buffer for the next
 * request; the client is alive and watching stops). A read still blocked when the answer is ready would race with
 * Helidon reading the next request, so such an answer carries {@code Connection: close} and the socket is closed
 * after it ({@link Watch#endsConnection}); a client loses only connection reuse for its non-streamed generations.
 */
public final class ClientConnections {
    private static final Logger LOG = Logger.getLogger(ClientConnections.class.getName());
    private static final ThreadLocal<ConnectionContext> CURRENT = new ThreadLocal<>();

    private static final Http1ConnectionListener LISTENER = new Http1ConnectionListener() {
        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            CURRENT.set(ctx);
        }
    };

    /** To register with the server's HTTP/1 config ({@code Http1Config.builder().addReceiveListener}). */
    public static Http1ConnectionListener listener() {
        return LISTENER;
    }

    private ClientConnections() {
    }

    /**
     * Starts watching the current request's connection (call it on the handler's thread, after the body was read);
     * {@code onGone} runs once, on the watcher's thread, if the client disconnects before {@link Watch#stop}. Null
     * when the connection is unknown (another protocol) or the client has already sent more.
     */
    static Watch watch(Runnable onGone) {
        ConnectionContext ctx = CURRENT.get();
        if (ctx == null || ctx.dataReader().available() > 0) return null;
        return new Watch(ctx, onGone);
    }

    static final class Watch {
        private final ConnectionContext ctx;
        private final Thread reader;
        private volatile boolean stopped;

        private Watch(ConnectionContext ctx, Runnable onGone) {
            this.ctx = ctx;
            this.reader = Thread.ofVirtual().name("autoglm-client-watch").start(() -> {
                try {
                    ctx.dataReader().pullData();
                } catch (RuntimeException endOfStreamOrReset) {
                    if (!stopped) {
                        LOG.log(Level.FINE, "client disconnected", endOfStreamOrReset);
                        onGone.run();
                    }
                }
            });
        }

        /** Ends watching; true when the read is still pending, so the answer must close the connection. */
        boolean stop() {
            stopped = true;
            return reader.isAlive();
        }

        /** Closes the connection after its answer was written (ends the pending read). */
        void endsConnection() {
            try {
                ctx.serverSocket().close();
            } catch (RuntimeException alreadyClosed) {
                // nothing to do
            }
        }
    }
}
