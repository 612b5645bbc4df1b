package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/**
 * Without keys, refuses what only a browser tricked by another site would send (403 for a foreign Host, 415 for a
 * body that is not JSON; see {@link ai.autoglm.server.gateway.OpenModeGuard}).
 */
final class OpenModeStage implements Stage {
    private final Gateway gateway;
    private final boolean hasBody;

    OpenModeStage(Gateway gateway, boolean hasBody) {
        this.gateway = gateway;
        this.hasBody = hasBody;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        gateway.guardOpenMode(call.route(), call.exchange(), hasBody);
        next.handle(call);
    }
}
