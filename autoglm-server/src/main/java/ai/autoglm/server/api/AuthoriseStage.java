package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/** Whether the key's role may use the route: 403 when not. (The model is authorised where it is acquired: {@link ModelStage}.) */
final class AuthoriseStage implements Stage {
    private final Gateway gateway;

    AuthoriseStage(Gateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        gateway.authorizeRoute(call.exchange().principal(), call.route());
        next.handle(call);
    }
}
