package ai.autoglm.server.api;

import io.helidon.common.buffers.BufferData;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Answers a request line of another HTTP version than 1.1 ({@code HTTP/1.0}, {@code HTTP/2.0} without an upgrade)
 * with {@code 505 HTTP Version Not Supported} and closes the connection.
 *
 * <p>Helidon SE 4.5 only speaks HTTP/1.1 here: its HTTP/1 connection selector declines any other version, and
 * {@code ConnectionHandler} then closes the socket without a byte, so an HTTP/1.0 client (ApacheBench, old proxies,
 * health checkers) sees a bare disconnect. This selector claims those connections instead, only to say why
 * (RFC 9110 §15.6.6). Connections whose first line says {@code HTTP/1.1} are not touched.
 */
public final class UnsupportedHttpVersions implements ServerConnectionSelector {
    /** The end of a request line naming a version: " HTTP/d.d" before CR LF. */
    private static final Pattern VERSION = Pattern.compile(".* HTTP/(\\d)\\.(\\d)\r?");
    private static final int MAX_LINE = 8192;

    @Override
    public int bytesToIdentifyConnection() {
        return 0;
    }

    @Override
    public Support supports(BufferData request) {
        int nl = request.indexOf((byte) '\n');
        if (nl < 0) return request.available() > MAX_LINE ? Support.UNSUPPORTED : Support.UNKNOWN;
        String line = request.readString(nl, StandardCharsets.ISO_8859_1);
        var m = VERSION.matcher(line);
        if (!m.matches()) return Support.UNSUPPORTED;
        return m.group(1).equals("1") && m.group(2).equals("1") ? Support.UNSUPPORTED : Support.SUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return Set.of();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new ServerConnection() {
            @Override
            public void handle(io.helidon.common.concurrency.limits.Limit limit) {
                answer505(ctx);
            }

            @Override
            @SuppressWarnings("removal")
            public void handle(java.util.concurrent.Semaphore requests) {
                answer505(ctx);
            }

            @Override
            public Duration idleTime() {
                return Duration.ZERO;
            }

            @Override
            public void close(boolean interrupt) {
                // nothing held
            }
        };
    }

    private static void answer505(ConnectionContext ctx) {
        byte[] body = Json.bytes(Json.error("this server speaks HTTP/1.1 only; send the request as HTTP/1.1",
                "invalid_request_error", null, "http_version_not_supported"));
        String head = "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n";
        ctx.dataWriter().writeNow(BufferData.create(BufferData.create(head.getBytes(StandardCharsets.ISO_8859_1)), BufferData.create(body)));
        // returning ends the connection: ConnectionHandler closes the socket
    }
}
