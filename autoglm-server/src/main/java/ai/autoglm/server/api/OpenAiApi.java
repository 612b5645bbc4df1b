package ai.autoglm.server.api;

import ai.autoglm.server.models.ModelKind;
import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.server.models.ServedEmbeddingModel;
import ai.autoglm.server.models.ServedModel;
import ai.autoglm.server.metrics.ServerMetrics;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.gateway.RequestFilters;
import ai.autoglm.server.gateway.Gateway;
import ai.autoglm.server.security.AuditUnavailableException;
import ai.autoglm.server.gateway.GatewayException;
import ai.autoglm.server.gateway.OutputFilter;
import io.helidon.webserver.CloseConnectionException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.Method;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP routes. Every route runs on its own virtual thread (Helidon 4's default) and goes through
 * {@link #route}: its {@link Pipeline} of {@link Stage}s (audit, open-mode guard, CORS, key, role, rate limit, body
 * read with the size limit, and for model routes PII filter, model, response cache), {@link GatewayException}s and
 * {@link ApiException}s answered as OpenAI error objects (here, and nowhere else), anything unexpected as a 500 without internals, the
 * request counted in the metrics, and its audit record written before the response's last byte.
 */
public final class OpenAiApi {
    private static final Logger LOG = Logger.getLogger(OpenAiApi.class.getName());
    private static final Map<String, String> KNOWN = Map.of(
            "/v1/chat/completions", "POST", "/v1/completions", "POST", "/v1/embeddings", "POST", "/v1/models", "GET", "/tokenize", "POST",
            "/detokenize", "POST", "/health", "GET", "/metrics", "GET", "/admin/keys", "GET, POST");

    private final ModelRegistry registry;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Gateway gateway;
    private final long started = System.currentTimeMillis() / 1000;
    private final RequestFilters filters;

    public OpenAiApi(ModelRegistry registry, ServerConfig config, ServerMetrics metrics, Gateway gateway) {
        this.registry = registry;
        this.config = config;
        this.metrics = metrics;
        this.gateway = gateway;
        this.filters = new RequestFilters(config.filters());
    }

    /** Releases the gateway's resources (the Redis connections of a shared cache). */
    public void close() {
        filters.close();
    }

    ModelRegistry registry() {
        return registry;
    }

    ServerConfig config() {
        return config;
    }

    ServerMetrics metrics() {
        return metrics;
    }

    Gateway gateway() {
        return gateway;
    }

    /** The model a request names (the first one when it names none), once the gateway allows its key to use it. */
    ServedModel acquire(String model, HttpExchange ex) {
        return registry.acquire(authorize(model, ModelKind.GENERATIVE, ex));
    }

    /** The embedding model a request names (the first one when it names none), once the gateway allows its key to use it. */
    ServedEmbeddingModel acquireEmbedding(String model, HttpExchange ex) {
        return registry.acquireEmbedding(authorize(model, ModelKind.EMBEDDING, ex));
    }

    private String authorize(String model, ModelKind kind, HttpExchange ex) {
        String alias = model != null ? model : registry.defaultAlias(kind);
        ex.context().model(alias);
        gateway.authorizeModel(ex.principal(), alias);
        return alias;
    }

    /** A route body: the parsed JSON request (null for GET) and the exchange. */
    interface Endpoint {
        void handle(JsonNode body, HttpExchange ex) throws IOException;
    }

    /** A route body that uses a model: it gets the one {@link ModelStage} acquired (and the key was allowed). */
    interface ModelEndpoint<M> {
        void handle(JsonNode body, M model, HttpExchange ex) throws IOException;
    }

    /** A route body that generates text: it also gets what to do to the text before it is sent ({@link PiiStage}). */
    interface GenerationEndpoint {
        void handle(JsonNode body, ServedModel model, OutputFilter output, HttpExchange ex) throws IOException;
    }

    public void register(HttpRouting.Builder routing) {
        ChatCompletionsEndpoint chat = new ChatCompletionsEndpoint(this);
        CompletionsEndpoint completions = new CompletionsEndpoint(this);
        TokenizeEndpoints tokenize = new TokenizeEndpoints(this);
        AdminEndpoints admin = new AdminEndpoints(this);
        GenerationEndpoint chatRoute = chat::handle;
        GenerationEndpoint completionsRoute = completions::handle;
        ModelEndpoint<ServedEmbeddingModel> embeddingsRoute = new EmbeddingsEndpoint(this)::handle;
        ModelEndpoint<ServedModel> tokenizeRoute = tokenize::tokenize;
        ModelEndpoint<ServedModel> detokenizeRoute = tokenize::detokenize;
        routing.post("/v1/chat/completions", route("/v1/chat/completions", generation(ModelKind.GENERATIVE, true), chatRoute))
                .post("/v1/completions", route("/v1/completions", generation(ModelKind.GENERATIVE, true), completionsRoute))
                // Embeddings get the PII filter only: they are cheap next to generation and keyed on no sampling settings.
                .post("/v1/embeddings", route("/v1/embeddings", generation(ModelKind.EMBEDDING, false), embeddingsRoute))
                .get("/v1/models", route("/v1/models", false, (b, ex) -> ex.sendJson(200, models(ex.principal()))))
                .get("/v1/models/{id}", route("/v1/models/{id}", false, this::model))
                .post("/tokenize", route("/tokenize", List.<Stage>of(new ModelStage(this, ModelKind.GENERATIVE)), tokenizeRoute))
                .post("/detokenize", route("/detokenize", List.<Stage>of(new ModelStage(this, ModelKind.GENERATIVE)), detokenizeRoute))
                .get("/health", route("/health", false, (b, ex) -> ex.sendJson(200, Json.object().put("status", "ok"))))
                .get("/metrics", route("/metrics", false, (b, ex) -> ex.send(200, ServerMetrics.contentType(), metrics.scrape())))
                .get("/admin/keys", route("/admin/keys", false, admin::listKeys))
                .post("/admin/keys", route("/admin/keys", true, admin::createKey))
                .delete("/admin/keys/{name}", route("/admin/keys/{name}", false, admin::revokeKey))
                .get("/admin/audit", route("/admin/audit", false, admin::audit))
                .get("/admin/audit/verify", route("/admin/audit/verify", false, admin::verifyAudit))
                .get("/admin/models", route("/admin/models", false, admin::models))
                .post("/admin/models/{id}/load", route("/admin/models/{id}/load", true, admin::load))
                .post("/admin/models/{id}/unload", route("/admin/models/{id}/unload", true, admin::unload))
                .get("/admin/reports", route("/admin/reports", false, admin::reports))
                .get("/admin/reports/{id}", route("/admin/reports/{id}", false, admin::report))
                // the same revocation as DELETE, for scripts; with Redis it reaches every replica (RedisKeyRing)
                .post("/admin/keys/{name}/revoke", route("/admin/keys/{name}", false, admin::revokeKey))
                .any(route("other", false, this::notFound));
    }

    /** The stages after the body is read for a route that uses a model: PII filter → model → response cache (when on). */
    private List<Stage> generation(ModelKind kind, boolean cached) {
        List<Stage> s = new ArrayList<>();
        s.add(new PiiStage(filters.pii(), gateway));
        s.add(new ModelStage(this, kind));
        if (cached && filters.cache() != null) s.add(new CacheStage(this, filters.cache(), filters.fingerprint()));
        return s;
    }

    private Handler route(String name, boolean jsonBody, Endpoint endpoint) {
        return route(name, jsonBody, List.of(), c -> endpoint.handle(c.body(), c.exchange()));
    }

    private Handler route(String name, List<Stage> filters, GenerationEndpoint endpoint) {
        return route(name, true, filters, c -> endpoint.handle(c.body(), (ServedModel) c.model(), c.output(), c.exchange()));
    }

    @SuppressWarnings("unchecked")
    private <M> Handler route(String name, List<Stage> filters, ModelEndpoint<M> endpoint) {
        return route(name, true, filters, c -> endpoint.handle(c.body(), (M) c.model(), c.exchange()));
    }

    /**
     * The route's pipeline, the one straight line of docs/security.md: audit (its record written at the end, whatever the
     * outcome) → open-mode guard → CORS → header size → authenticate → authorise → rate limit → read the body →
     * {@code filters} (PII filter → model → response cache) → endpoint.
     */
    private Handler route(String name, boolean jsonBody, List<Stage> filters, Stage.Next endpoint) {
        List<Stage> stages = new ArrayList<>(List.of(new AuditStage(gateway), new OpenModeStage(gateway, jsonBody), new CorsStage(gateway),
                new HeadSizeStage(config.security().maxHeaderBytes()),
                new AuthenticateStage(gateway), new AuthoriseStage(gateway), new RateLimitStage(gateway)));
        if (jsonBody) stages.add(new ReadBodyStage());
        stages.addAll(filters);
        return route(name, new Pipeline(stages, endpoint));
    }

    private Handler route(String name, Pipeline pipeline) {
        return (req, res) -> {
            long start = System.nanoTime();
            HttpExchange ex = new HttpExchange(req, res, config.maxBodyBytes());
            try {
                pipeline.run(new Call(name, ex));
            } catch (GatewayException e) {
                // The one place where the gateway's refusal becomes an OpenAI error object.
                answer(ex, new ApiException(e.status(), e.type(), e.param(), e.code(), e.getMessage(), e.headers()));
            } catch (ApiException e) {
                answer(ex, e);
            } catch (AuditUnavailableException e) {
                // AuditLog logged it (once, loudly); the request fails closed. A stream already ended with the error event.
                LOG.fine(() -> "refused for want of an audit record on " + name + ": " + e.getMessage());
                answer(ex, ApiException.auditUnavailable());
            } catch (ClientGoneException | CloseConnectionException e) {
                // A client that leaves mid-answer is routine: one line, no trace.
                LOG.info(() -> "client left during the answer on " + name + " (" + ex.context().requestId() + ", "
                        + ex.context().completionTokens() + " completion tokens generated for it): " + e.getMessage());
                if (!ex.context().clientGone()) ex.context().clientGone(true);
            } catch (IOException | UncheckedIOException e) {
                // Reading the request or writing the answer failed: the client is gone (a streamed job is cancelled).
                LOG.log(Level.FINE, "client connection failed on " + name, e);
                if (!ex.streaming() && !ex.sent()) answer(ex, new ApiException(400, "invalid_request_error", null, null, "could not read the request: " + e.getMessage()));
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "internal error on " + name, e);
                answer(ex, new ApiException(500, "server_error", null, null, "internal server error"));
            } finally {
                if (ex.streaming()) ex.finishStream();
                completeQuietly(ex, name);
                metrics.request(name, ex.status(), System.nanoTime() - start);
                if (ex.context().clientGone() && ex.context().model() != null) metrics.clientGone(ex.context().model());
            }
            // Helidon 4.5 answers "Connection: close" but then waits for another request on the socket
            // (helidon-io/helidon#12324); this exception is its way to close a connection after the answer was sent.
            // Not after a stream: Helidon writes a chunked body's last chunk (size 0) only once the handler has
            // returned, so closing here cut it and strict clients saw a truncated stream (HostileInputTest); the
            // client that asked for the close closes once it has read the last chunk.
            if (ex.closesConnection() && !ex.streaming()) throw new CloseConnectionException("the answer closes the connection");
        };
    }

    /** The audit record of a request that ended without its last byte (a stream cut short, a client gone). */
    private static void completeQuietly(HttpExchange ex, String name) {
        try {
            ex.complete();
        } catch (AuditUnavailableException e) {
            LOG.fine(() -> "no audit record for a request on " + name + " that ended early: " + e.getMessage()); // AuditLog logged the cause
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "cannot complete a request on " + name, e);
        }
    }

    private static void answer(HttpExchange ex, ApiException e) {
        if (ex.streaming()) {
            // Headers are out: the error becomes the last event of the stream.
            return;
        }
        if (!ex.sent()) ex.sendError(e);
    }

    /** The models this key may use. */
    private ObjectNode models(ai.autoglm.server.gateway.Principal principal) {
        ObjectNode root = Json.object();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String alias : registry.aliases()) {
            if (principal.mayUseModel(alias)) data.add(modelObject(alias));
        }
        return root;
    }

    private ObjectNode modelObject(String alias) {
        ObjectNode m = Json.object();
        m.put("id", alias);
        m.put("object", "model");
        m.put("created", started);
        m.put("owned_by", "autoglm");
        return m;
    }

    private void model(JsonNode body, HttpExchange ex) {
        String id = ex.request().path().pathParameters().get("id");
        ex.context().model(id);
        gateway.authorizeModel(ex.principal(), id);
        if (!registry.aliases().contains(id)) throw ApiException.modelNotFound(id);
        ex.sendJson(200, modelObject(id));
    }

    private void notFound(JsonNode body, HttpExchange ex) {
        String path = ex.request().path().path();
        String method = ex.request().prologue().method().text();
        String allowed = KNOWN.get(path);
        if (allowed != null && !allowed.equals(method) && !Method.HEAD.text().equals(method)) {
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                    method + " is not allowed on " + path + "; use " + allowed, Map.of("Allow", allowed));
        }
        throw new ApiException(404, "invalid_request_error", null, "not_found", "no route " + method + " " + path
                .replaceAll("[^\\x20-\\x7e]", "?"));
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
