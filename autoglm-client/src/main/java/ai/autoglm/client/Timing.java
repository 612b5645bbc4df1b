package ai.autoglm.client;

import java.time.Duration;

/**
 * How long a request took, measured by this client (network included for the remote route).
 *
 * @param timeToFirstToken from the call to the first generated token (for a non-streamed remote answer: to the
 *                         whole answer, the first moment anything arrives)
 * @param total            from the call to the end of the answer
 */
public record Timing(Duration timeToFirstToken, Duration total) {
    static Timing since(long startNanos, long firstNanos) {
        long now = System.nanoTime();
        return new Timing(Duration.ofNanos((firstNanos == 0 ? now : firstNanos) - startNanos), Duration.ofNanos(now - startNanos));
    }
}
