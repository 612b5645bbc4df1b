package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/** Adds the CORS headers; answers a CORS preflight with 204 and nothing else. */
final class CorsStage implements Stage {
    private final Gateway gateway;

    CorsStage(Gateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        if (gateway.preflight(call.exchange())) {
            call.exchange().sendEmpty(204);
            return;
        }
        next.handle(call);
    }
}
