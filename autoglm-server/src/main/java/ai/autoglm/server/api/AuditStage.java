package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;

/**
 * The audit record (and the token charge) of every request, whatever its outcome: first in the pipeline so that
 * every later stage's refusal is recorded, it acts last, once, just before the response's last byte (a whole body
 * before it is sent, a stream before its {@code [DONE]}; see {@link HttpExchange#complete}). When the record cannot
 * be written the request fails closed ({@link ai.autoglm.server.security.AuditUnavailableException}).
 */
final class AuditStage implements Stage {
    private final Gateway gateway;

    AuditStage(Gateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        long start = System.nanoTime();
        HttpExchange ex = call.exchange();
        ex.onAudit(status -> gateway.complete(ex.principal(), call.route(), ex.context(), status, System.nanoTime() - start));
        next.handle(call);
    }
}
