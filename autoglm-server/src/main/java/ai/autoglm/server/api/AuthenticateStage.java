package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/** Who is calling: the API key from {@code Authorization: Bearer}, 401 (or 429 past the failed attempts per minute) when it is wrong. */
final class AuthenticateStage implements Stage {
    private final Gateway gateway;

    AuthenticateStage(Gateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        HttpExchange ex = call.exchange();
        ex.principal(gateway.authenticate(call.route(), ex, ex.context()));
        next.handle(call);
    }
}
