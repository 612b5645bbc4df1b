package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/** The key's request and token limits: 429 with {@code Retry-After} when one is spent. */
final class RateLimitStage implements Stage {
    private final Gateway gateway;

    RateLimitStage(Gateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        gateway.rateLimit(call.exchange().principal());
        next.handle(call);
    }
}
