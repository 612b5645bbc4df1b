package ai.autoglm.server.gateway;

import ai.autoglm.server.config.SecurityConfig;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.proxy.ProxyManager;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Requests per minute and tokens per day, per key, as token buckets (Bucket4j: lock-free, exact under
 * concurrency, and its refill arithmetic is well tested). The request bucket holds a minute's requests and is
 * refilled whole each minute, so a burst gets exactly that many. The token bucket is checked before a request
 * (refused once it is empty) and charged after it with what it really used, since a completion's length is only
 * known at its end; the last request of the day may overdraw it, and the overdraft is paid back from the next.
 *
 * <p>With replicas the buckets live in Redis ({@link SharedState}: Bucket4j's Jedis proxy manager, each consumption
 * one compare-and-swap), so a key's minute and day are counted once whichever replica serves it. A bucket that
 * cannot be reached refuses the request (503): a limit is a security decision and fails closed.
 */
public final class RateLimiter {
    private final SecurityConfig.Limits limits;
    private final ConcurrentHashMap<String, Buckets> byKey = new ConcurrentHashMap<>();
    /** The buckets in Redis, or null for buckets in this process. */
    private final ProxyManager<String> shared;

    private record Buckets(Bucket requests, Bucket tokens) {
    }

    public RateLimiter(SecurityConfig.Limits limits) {
        this(limits, null);
    }

    /** @param shared Bucket4j's proxy manager over Redis, or null to keep the buckets in this process */
    public RateLimiter(SecurityConfig.Limits limits, ProxyManager<String> shared) {
        this.limits = limits;
        this.shared = shared;
    }

    /** Takes one request from the key's budget; 429 with Retry-After when the minute's requests or the day's tokens are spent. */
    public void admit(Principal p) {
        try {
            admitLocally(p);
        } catch (GatewayException e) {
            throw e;
        } catch (RuntimeException e) {
            if (shared == null) throw e;
            java.util.logging.Logger.getLogger(RateLimiter.class.getName()).warning("rate limits: Redis failed; refusing (503): " + e);
            throw new GatewayException(503, "server_error", "rate_limit_store_unavailable",
                    "The shared rate-limit store cannot be reached; retry shortly.", java.util.Map.of("Retry-After", "1"));
        }
    }

    private void admitLocally(Principal p) {
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
        if (b == null || b.tokens == null) return;
        try {
            b.tokens.consumeIgnoringRateLimits(tokens);
        } catch (RuntimeException e) {
            if (shared == null) throw e;
            // the answer is already out; the charge is lost, which the log says
            java.util.logging.Logger.getLogger(RateLimiter.class.getName()).warning("rate limits: Redis failed; " + tokens
                    + " tokens of key '" + p.key().name() + "' not charged: " + e);
        }
    }

    private Buckets buckets(Principal p) {
        if (p.key() == null) return null;
        SecurityConfig.Limit limit = limits.forKey(p.key().name(), p.key().role());
        if (limit == null) return null;
        if (shared != null) {
            return byKey.computeIfAbsent(p.key().name(), k -> new Buckets(
                    limit.requestsPerMinute() == null ? null : remote(k, "requests", limit.requestsPerMinute(), Duration.ofMinutes(1)),
                    limit.tokensPerDay() == null ? null : remote(k, "tokens", limit.tokensPerDay(), Duration.ofDays(1))));
        }
        return byKey.computeIfAbsent(p.key().name(), k -> new Buckets(
                limit.requestsPerMinute() == null ? null : Bucket.builder()
                        .addLimit(l -> l.capacity(limit.requestsPerMinute()).refillIntervally(limit.requestsPerMinute(), Duration.ofMinutes(1))).build(),
                limit.tokensPerDay() == null ? null : Bucket.builder()
                        .addLimit(l -> l.capacity(limit.tokensPerDay()).refillIntervally(limit.tokensPerDay(), Duration.ofDays(1))).build()));
    }

    /**
     * The key's bucket in Redis, named by key, kind and limit (a changed limit starts a fresh bucket rather than
     * mixing two configurations); the proxy is a handle, every call on it is a round trip.
     */
    private Bucket remote(String keyName, String kind, long capacity, Duration period) {
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(l -> l.capacity(capacity).refillIntervally(capacity, period)).build();
        return shared.builder().build("autoglm:limit:" + keyName + ":" + kind + ":" + capacity + "/" + period, () -> config);
    }

    private static long seconds(long nanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanos + 999_999_999L));
    }
}
