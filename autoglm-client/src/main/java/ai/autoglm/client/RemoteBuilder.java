package ai.autoglm.client;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/** Builds a client of an {@code autoglm serve} or any OpenAI-compatible server (see {@link AutoGLMClient#remote()}). */
public final class RemoteBuilder {
    private String baseUrl;
    private String apiKey;
    private String model;
    private String embeddingModel;
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofMinutes(10);

    RemoteBuilder() {
    }

    /** The server, e.g. {@code http://127.0.0.1:8000} (a trailing {@code /v1} is accepted too). */
    public RemoteBuilder baseUrl(String url) {
        this.baseUrl = url;
        return this;
    }

    /** Sent as {@code Authorization: Bearer <key>}; null for none. */
    public RemoteBuilder apiKey(String key) {
        this.apiKey = key;
        return this;
    }

    /** The model alias to ask for; null lets the server choose its default. */
    public RemoteBuilder model(String alias) {
        this.model = alias;
        return this;
    }

    /** The alias of the server's embedding model, for {@link AutoGLMClient#embed}. */
    public RemoteBuilder embeddingModel(String alias) {
        this.embeddingModel = alias;
        return this;
    }

    /** How long to wait for a connection (default 5 s); longer counts as the server being unavailable. */
    public RemoteBuilder connectTimeout(Duration t) {
        this.connectTimeout = Objects.requireNonNull(t);
        return this;
    }

    /** How long to wait for an answer (for a stream: for its first bytes); default 10 minutes. */
    public RemoteBuilder requestTimeout(Duration t) {
        this.requestTimeout = Objects.requireNonNull(t);
        return this;
    }

    /**
     * @throws InvalidEndpointException when the base URL is not an absolute http(s) URL with a host
     */
    public AutoGLMClient build() {
        return open();
    }

    /** The base URL checked and normalized (no trailing slash, no {@code /v1}). */
    URI endpoint() {
        if (baseUrl == null) throw new InvalidEndpointException("no server URL: call baseUrl(...)", null);
        URI uri;
        try {
            uri = new URI(baseUrl.strip());
        } catch (java.net.URISyntaxException e) {
            throw new InvalidEndpointException("server URL '" + baseUrl + "' is not a URL: " + e.getMessage(), e);
        }
        if (uri.getScheme() == null || !(uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https")) || uri.getHost() == null) {
            throw new InvalidEndpointException("server URL '" + baseUrl + "' must be an absolute http:// or https:// URL with a host, e.g. http://127.0.0.1:8000", null);
        }
        String s = uri.toString().replaceAll("/+$", "");
        if (s.endsWith("/v1")) s = s.substring(0, s.length() - 3);
        return URI.create(s);
    }

    RemoteClient open() {
        return new RemoteClient(endpoint(), apiKey, model, embeddingModel, connectTimeout, requestTimeout);
    }
}
