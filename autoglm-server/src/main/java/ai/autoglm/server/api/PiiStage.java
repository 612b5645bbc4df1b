package ai.autoglm.server.api;

import ai.autoglm.server.gateway.Gateway;
import ai.autoglm.server.gateway.PiiFilter;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The PII filter on the request (redact, or refuse with a 400 naming the kind of data and the field) and the output
 * filter for the answer. The audit keeps what the filter let through, never the raw prompt.
 */
final class PiiStage implements Stage {
    private final PiiFilter pii;
    private final Gateway gateway;

    /** @param pii the filter, or null when it is off (the stage then only records the prompt for the audit) */
    PiiStage(PiiFilter pii, Gateway gateway) {
        this.pii = pii;
        this.gateway = gateway;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        HttpExchange ex = call.exchange();
        JsonNode body = call.body();
        Call filtered = call;
        if (pii != null) {
            body = pii.filterInput(body, ex.context()); // a rejected request throws here: its text is never recorded
            if (pii.filtersOutput()) {
                if (asksLogprobs(body)) {
                    throw ApiException.unsupported("logprobs", "logprobs cannot be returned while this server filters personal data "
                            + "from answers: they would show the tokens the filter removes");
                }
                filtered = filtered.withOutput(pii.output(ex.context()));
            }
        }
        if (gateway.recordsText() && body.isObject()) ex.context().promptText(promptOf(body));
        next.handle(filtered.withBody(body));
    }

    private static String promptOf(JsonNode body) {
        for (String f : new String[]{"messages", "prompt", "input"}) {
            if (body.has(f)) return String.valueOf(body.get(f));
        }
        return null;
    }

    private static boolean asksLogprobs(JsonNode body) {
        JsonNode lp = body.get("logprobs");
        return lp != null && !lp.isNull() && !(lp.isBoolean() && !lp.asBoolean());
    }
}
