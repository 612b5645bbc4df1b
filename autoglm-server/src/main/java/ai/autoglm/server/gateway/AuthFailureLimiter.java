package ai.autoglm.server.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;

/**
 * Failed authentications per client address, in fixed one-minute windows, so that an anonymous client cannot grow
 * the audit trail (one record per request) without bound. Within the limit a failure is a 401 with its audit
 * record; the first one past it is a 429 with its record (the throttling is on the trail); the rest of the minute
 * gets 429s without records. A valid key is never throttled here: its requests are limited by its own quota.
 *
 * <p>The address is the TCP peer's: behind a proxy every client shares the proxy's address (the proxy should limit
 * its own clients), and {@code X-Forwarded-For} is not trusted, since any client can send it. Addresses are kept in
 * a bounded Caffeine cache (at most {@value #MAX_ADDRESSES}, each for two minutes after its window opened).
 */
final class AuthFailureLimiter {
    static final int MAX_ADDRESSES = 100_000;
    private static final long WINDOW_NANOS = Duration.ofMinutes(1).toNanos();

    /** What to do with one failed authentication. */
    enum Verdict {
        /** Within the limit: 401, audited. */
        AUDIT,
        /** The first past the limit this minute: 429, audited. */
        THROTTLE_AUDIT,
        /** Further past the limit: 429, not audited. */
        THROTTLE_SILENT
    }

    private static final class Window {
        long start;
        int count;
    }

    private final int perMinute;
    private final Cache<String, Window> windows = Caffeine.newBuilder().maximumSize(MAX_ADDRESSES)
            .expireAfterWrite(Duration.ofMinutes(2)).build();

    AuthFailureLimiter(int perMinute) {
        this.perMinute = perMinute;
    }

    /** Counts one failure from {@code address}; with no limit (0) or no address every failure is audited. */
    Verdict failure(String address) {
        if (perMinute == 0 || address == null) return Verdict.AUDIT;
        long now = System.nanoTime();
        Window w = windows.get(address, a -> new Window());
        synchronized (w) {
            if (w.count == 0 || now - w.start >= WINDOW_NANOS) {
                w.start = now;
                w.count = 0;
            }
            w.count++;
            return w.count <= perMinute ? Verdict.AUDIT : w.count == perMinute + 1 ? Verdict.THROTTLE_AUDIT : Verdict.THROTTLE_SILENT;
        }
    }

    /** Seconds until {@code address}'s window ends (at least 1). */
    long retryAfterSeconds(String address) {
        Window w = address == null ? null : windows.getIfPresent(address);
        if (w == null) return 1;
        synchronized (w) {
            long left = WINDOW_NANOS - (System.nanoTime() - w.start);
            return Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
        }
    }
}
