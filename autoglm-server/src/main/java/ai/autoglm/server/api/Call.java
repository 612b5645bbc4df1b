package ai.autoglm.server.api;

import ai.autoglm.server.gateway.OutputFilter;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * A request on its way through the {@link Pipeline}: the route it came in on, its exchange, its body once read (then
 * as the PII filter let it through) and its model once acquired. Stages pass a changed copy on, never change one.
 *
 * @param route the route's name (as in the metrics and the audit record)
 * @param body  the parsed JSON body, or null before the body is read and for routes without one
 * @param model  the served model ({@code ServedModel} or {@code ServedEmbeddingModel}) once acquired, else null
 * @param output what the gateway does to generated text before it is sent (the PII filter's redaction, or nothing)
 */
record Call(String route, HttpExchange exchange, JsonNode body, Object model, OutputFilter output) {
    /** A request as it arrives: no body read, no model, no output filter yet. */
    Call(String route, HttpExchange exchange) {
        this(route, exchange, null, null, OutputFilter.NONE);
    }

    Call withBody(JsonNode b) {
        return new Call(route, exchange, b, model, output);
    }

    Call withModel(Object m) {
        return new Call(route, exchange, body, m, output);
    }

    Call withOutput(OutputFilter o) {
        return new Call(route, exchange, body, model, o);
    }
}
