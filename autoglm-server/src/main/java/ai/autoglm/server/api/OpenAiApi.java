package ai.autoglm.server.api;

import ai.autoglm.server.ModelRegistry;
import ai.autoglm.server.ServerMetrics;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.gateway.RequestFilters;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP routes. Every route runs on its own virtual thread (Helidon 4's default) and goes through
 * {@link #route}: body read with the size limit, {@link ApiException}s answered as OpenAI error objects, anything
 * unexpected as a 500 without internals, and the request counted in the metrics.
 */
public final class OpenAiApi {
    private static final Logger LOG = Logger.getLogger(OpenAiApi.class.getName());
    private static final Map<String, String> KNOWN = Map.of(
            "/v1/chat/completions", "POST", "/v1/completions", "POST", "/v1/embeddings", "POST", "/v1/models", "GET", "/tokenize", "POST",
            "/detokenize", "POST", "/health", "GET", "/metrics", "GET");

    private final ModelRegistry registry;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final long started = System.currentTimeMillis() / 1000;
    private final RequestFilters filters;

    public OpenAiApi(ModelRegistry registry, ServerConfig config, ServerMetrics metrics) {
        this.registry = registry;
        this.config = config;
        this.metrics = metrics;
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

    /** A route body: the parsed JSON request (null for GET) and the exchange. */
    interface Endpoint {
        void handle(JsonNode body, HttpExchange ex) throws IOException;
    }

    public void register(HttpRouting.Builder routing) {
        ChatCompletionsEndpoint chat = new ChatCompletionsEndpoint(this);
        CompletionsEndpoint completions = new CompletionsEndpoint(this);
        TokenizeEndpoints tokenize = new TokenizeEndpoints(this);
        GatewayRoute gateway = new GatewayRoute(this, filters);
        routing.post("/v1/chat/completions", route("/v1/chat/completions", true, gateway.wrap("/v1/chat/completions", chat::handle)))
                .post("/v1/completions", route("/v1/completions", true, gateway.wrap("/v1/completions", completions::handle)))
                .post("/v1/embeddings", route("/v1/embeddings", true, new EmbeddingsEndpoint(this)::handle))
                .get("/v1/models", route("/v1/models", false, (b, ex) -> ex.sendJson(200, models())))
                .get("/v1/models/{id}", route("/v1/models/{id}", false, this::model))
                .post("/tokenize", route("/tokenize", true, tokenize::tokenize))
                .post("/detokenize", route("/detokenize", true, tokenize::detokenize))
                .get("/health", route("/health", false, (b, ex) -> ex.sendJson(200, Json.object().put("status", "ok"))))
                .get("/metrics", route("/metrics", false, (b, ex) -> ex.send(200, ServerMetrics.contentType(), metrics.scrape())))
                .any(route("other", false, this::notFound));
    }

    private Handler route(String name, boolean jsonBody, Endpoint endpoint) {
        return (req, res) -> {
            long start = System.nanoTime();
            HttpExchange ex = new HttpExchange(req, res, config.maxBodyBytes());
            try {
                JsonNode body = jsonBody ? Json.parse(ex.body()) : null;
                endpoint.handle(body, ex);
            } catch (ApiException e) {
                answer(ex, e);
            } catch (IOException | UncheckedIOException e) {
                // Reading the request or writing the answer failed: the client is gone (a streamed job is cancelled).
                LOG.log(Level.FINE, "client connection failed on " + name, e);
                if (!ex.streaming() && !ex.sent()) answer(ex, new ApiException(400, "invalid_request_error", null, null, "could not read the request: " + e.getMessage()));
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "internal error on " + name, e);
                answer(ex, new ApiException(500, "server_error", null, null, "internal server error"));
            } finally {
                if (ex.streaming()) ex.finishStream();
                metrics.request(name, ex.status(), System.nanoTime() - start);
            }
        };
    }

    private static void answer(HttpExchange ex, ApiException e) {
        if (ex.streaming()) {
            // Headers are out: the error becomes the last event of the stream.
            return;
        }
        if (!ex.sent()) ex.sendError(e);
    }

    private ObjectNode models() {
        ObjectNode root = Json.object();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String alias : registry.aliases()) data.add(modelObject(alias));
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
