package ai.autoglm.server.gateway;

/** What the gateway needs of an HTTP exchange: the method, request headers, and adding response headers. */
public interface GatewayExchange {
    String method();

    /** The first value of a request header, or null. */
    String header(String name);

    void responseHeader(String name, String value);

    /** The client's address (the TCP peer's, without port), or null when unknown. */
    default String clientAddress() {
        return null;
    }
}
