package ai.autoglm.server.api;

import java.io.IOException;

/**
 * One stage of a request's way through the server, in the order of {@link Pipeline} (docs/security.md): authenticate →
 * authorise → rate limit → read body → PII filter → model → response cache → endpoint, with the audit record written
 * at the end (before the response's last byte). A stage either answers or refuses the call itself (a refusal is a
 * {@link ai.autoglm.server.gateway.GatewayException} or {@link ApiException}, turned into an OpenAI error object at
 * one place, {@link OpenAiApi}), or passes it, possibly changed, to the next stage.
 */
interface Stage {
    void handle(Call call, Next next) throws IOException;

    /** The rest of the pipeline after a stage. */
    interface Next {
        void handle(Call call) throws IOException;
    }
}
