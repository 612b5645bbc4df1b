package ai.autoglm.core.hub;

import java.io.IOException;

/** A model cannot be pulled or found: one message saying what and what to do (an IOException, so the CLI shows it as a user error). */
public class HubException extends IOException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The repository is gated or private (HTTP 401/403). */
    public static final class AccessDenied extends HubException {
        public AccessDenied(String message) {
            super(message);
        }
    }

    /** A downloaded file does not have the hash the hub published; it was deleted, nothing was linked. */
    public static final class HashMismatch extends HubException {
        public HashMismatch(String message) {
            super(message);
        }
    }

    /** Offline and the cache does not hold the model. */
    public static final class NotCached extends HubException {
        public NotCached(String message) {
            super(message);
        }
    }

    /** The cache's disk has less room than the pull needs; checked before any byte is fetched. */
    public static final class NoSpace extends HubException {
        public NoSpace(String message) {
            super(message);
        }
    }
}
