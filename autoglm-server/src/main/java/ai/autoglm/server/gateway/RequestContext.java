package ai.autoglm.server.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What the gateway learns about one request on its way through the server (who sent it, for which model, what it
 * cost, whether the cache answered it, what the filters did), so that the audit record written at its end can say
 * so. One per HTTP exchange; the route's virtual thread owns it, so plain fields suffice.
 */
public final class RequestContext {
    private final String requestId = "req-" + UUID.randomUUID().toString().replace("-", "");
    private String keyName;
    private String role;
    private String model;
    private int promptTokens;
    private int completionTokens;
    private boolean cacheHit;
    private final List<String> filterActions = new ArrayList<>();
    private String promptText;
    private String outputText;
    private boolean auditSkipped;
    private volatile boolean clientGone;
    private String adminAction;

    public String requestId() {
        return requestId;
    }

    public String keyName() {
        return keyName;
    }

    public String role() {
        return role;
    }

    /** The authenticated key's name and role (null for both while no key is configured). */
    public void authenticated(String keyName, String role) {
        this.keyName = keyName;
        this.role = role;
    }

    public String model() {
        return model;
    }

    public void model(String model) {
        this.model = model;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int completionTokens() {
        return completionTokens;
    }

    public void tokens(int prompt, int completion) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
    }

    public boolean cacheHit() {
        return cacheHit;
    }

    public void cacheHit(boolean hit) {
        this.cacheHit = hit;
    }

    /** What the PII filter and other filters did, e.g. {@code "redact:email:input"}. */
    public List<String> filterActions() {
        return List.copyOf(filterActions);
    }

    public void filterAction(String action) {
        filterActions.add(action);
    }

    /**
     * The request's prompt (its messages, prompt or input field as JSON) after the PII filter, kept only when the
     * audit config asks for text; never set for a request the filter rejected.
     */
    public String promptText() {
        return promptText;
    }

    public void promptText(String text) {
        this.promptText = text;
    }

    /** The generated text as sent to the client (after the output filter), kept only when the audit config asks for text. */
    public String outputText() {
        return outputText;
    }

    public void outputText(String text) {
        this.outputText = text;
    }

    /** The request gets no audit record of its own (a throttled anonymous client, see {@link AuthFailureLimiter}). */
    public boolean auditSkipped() {
        return auditSkipped;
    }

    void skipAudit() {
        this.auditSkipped = true;
    }

    /** The client left before the whole answer was sent: the audit's outcome {@code cancelled}. */
    public boolean clientGone() {
        return clientGone;
    }

    public void clientGone(boolean gone) {
        this.clientGone = gone;
    }

    /** What an admin request changed, e.g. {@code "create key ci (user)"}: the audit record's {@code action}. */
    public String adminAction() {
        return adminAction;
    }

    public void adminAction(String action) {
        this.adminAction = action;
    }
}
