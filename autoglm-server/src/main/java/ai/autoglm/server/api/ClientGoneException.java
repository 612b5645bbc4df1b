package ai.autoglm.server.api;

import java.io.IOException;

/**
 * Writing to the client failed: it closed the connection (or reset it). Whatever the transport threw (an
 * {@link IOException}, an {@link java.io.UncheckedIOException}, Helidon's {@code ServerConnectionException}) becomes
 * this one type, so that the route logs one line for a client that left instead of an internal error with a trace.
 */
final class ClientGoneException extends IOException {
    ClientGoneException(Throwable cause) {
        super("the client closed the connection" + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), cause);
    }
}
