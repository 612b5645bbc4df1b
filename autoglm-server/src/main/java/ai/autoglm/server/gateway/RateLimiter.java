package ai.autoglm.server.gateway;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Requests per minute and tokens per day, per key, as token buckets (Bucket4j: lock-free, exact under
 * concurrency, and its refill arithmetic is well tested). The request bucket holds a minute's requests and is
 * refilled whole each minute, so a burst gets exactly that many. The token bucket is checked before a request
 * (refused once it is empty) and charged after it with what it really used, since a completion's length is only
 * known at its end; the last request of the day may overdraw it, and the overdraft is paid back from the next.
 */
public final class RateLimiter {
    private final SecurityConfig.Limits limits;
    private final ConcurrentHashMap<String, Buckets> byKey = new ConcurrentHashMap<>();

    private record Buckets(Bucket requests, Bucket tokens) {
    }

    public RateLimiter(SecurityConfig.Limits limits) {
        this.limits = limits;
    }

    /** Takes one request from the key's budget; 429 with Retry-After when the minute's requests or the day's tokens are spent. */
    public void admit(Principal p) {
        Buckets b = buckets(p);
        if (b == null) return;
        if (b.tokens != null && b.tokens.getAvailableTokens() <= 0) {
            long wait = b.tokens.estimateAbilityToConsume(1).getNanosToWaitForRefill();
            throw GatewayException.rateLimited("tokens per day", seconds(wait));
        }
        if (b.requests != null) {
            ConsumptionProbe probe = b.requests.tryConsumeAndReturnRemaining(1);
            if (!probe.isConsumed()) throw GatewayException.rateLimited("requests per minute", seconds(probe.getNanosToWaitForRefill()));
        }
    }

    /** Charges the tokens a finished request used (prompt plus completion) to the key's daily quota. */
    public void charge(Principal p, long tokens) {
        if (tokens <= 0) return;
        Buckets b = buckets(p);
        if (b != null && b.tokens != null) b.tokens.consumeIgnoringRateLimits(tokens);
    }

    private Buckets buckets(Principal p) {
        if (p.key() == null) return null;
        SecurityConfig.Limit limit = limits.forKey(p.key().name(), p.key().role());
        if (limit == null) return null;
        return byKey.computeIfAbsent(p.key().name(), k -> new Buckets(
                limit.requestsPerMinute() == null ? null : Bucket.builder()
                        .addLimit(l -> l.capacity(limit.requestsPerMinute()).refillIntervally(limit.requestsPerMinute(), Duration.ofMinutes(1))).build(),
                limit.tokensPerDay() == null ? null : Bucket.builder()
                        .addLimit(l -> l.capacity(limit.tokensPerDay()).refillIntervally(limit.tokensPerDay(), Duration.ofDays(1))).build()));
    }

    private static long seconds(long nanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanos + 999_999_999L));
    }
}
