package ai.autoglm.client;

/**
 * Which model answered, and why that one.
 *
 * @param kind   in this JVM or on the server
 * @param reason a sentence for logs, e.g. "in-process client", "server answered", "forced offline",
 *               "server unavailable: connection refused; answered by the local model"
 */
public record Route(Kind kind, String reason) {
    public enum Kind { LOCAL, REMOTE }

    public static Route local(String reason) {
        return new Route(Kind.LOCAL, reason);
    }

    public static Route remote(String reason) {
        return new Route(Kind.REMOTE, reason);
    }
}
