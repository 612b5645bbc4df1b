package ai.autoglm.server.security;

/**
 * The audit trail cannot take a record (disk full, I/O error): the request it belongs to must fail (503), since no
 * answer may leave without its record. Distinct from an {@link java.io.UncheckedIOException}, which the HTTP layer
 * reads as a client that went away.
 */
public final class AuditUnavailableException extends RuntimeException {
    AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
