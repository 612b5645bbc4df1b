package ai.autoglm.core.schedule;

/** The scheduler's wait queue is full: the caller should retry later (HTTP 429 with Retry-After). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int capacity) {
        super("the server is busy: all slots are taken and " + capacity + " requests are already waiting; retry later");
    }
}
