package ai.autoglm.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A client of an OpenAI-compatible server over {@link HttpClient} (JDK) with Jackson, streaming by reading the SSE
 * lines ({@code data: {...}} then {@code data: [DONE]}, as OpenAI frames them). Chosen over the official
 * openai-java client: that one brings OkHttp and the Kotlin runtime (several MB) and its own retry policy, which
 * would fight the hybrid client's circuit breaker; the JDK client is enough for five endpoints and one framing.
 */
final class RemoteClient implements AutoGLMClient {
    /** close() is idempotent (a framework may close a bean the application closes too). */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final URI base;
    private final String apiKey;
    private final String model;
    private final String embeddingModel;
    private final Duration requestTimeout;
    private final HttpClient http;

    RemoteClient(URI base, String apiKey, String model, String embeddingModel, Duration connectTimeout, Duration requestTimeout) {
        this.base = base;
        this.apiKey = apiKey;
        this.model = model;
        this.embeddingModel = embeddingModel;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout).build();
    }

    URI base() {
        return base;
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
        long start = System.nanoTime();
        JsonNode root = postJson("/v1/chat/completions", WireFormat.body(request, model, false));
        return WireFormat.completion(root, Timing.since(start, 0), Route.remote("server " + base + " answered"));
    }

    @Override
    public ChatStream stream(ChatRequest request) {
        long start = System.nanoTime();
        HttpResponse<Stream<String>> response = send(post("/v1/chat/completions", WireFormat.body(request, model, true)),
                HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() != 200) {
            String body;
            try (Stream<String> lines = response.body()) {
                body = lines.collect(Collectors.joining("\n"));
            } catch (UncheckedIOException e) {
                body = "";
            }
            throw error(response.statusCode(), body);
        }
        return new RemoteStream(response.body(), start);
    }

    /** Chunks of a {@code chat.completion.chunk} stream. */
    private final class RemoteStream extends PieceStream {
        private final Stream<String> lines;
        private final Iterator<String> it;
        private final long start;
        private long first;
        private final StringBuilder content = new StringBuilder();
        private StringBuilder reasoning; // null until a delta carries reasoning_content
        /** Tool calls by index: OpenAI streams their arguments in pieces; autoglm serve sends each whole. */
        private final Map<Integer, String[]> calls = new TreeMap<>();
        private String finish;
        private Usage usage = new Usage(0, 0, 0);
        private boolean done;

        RemoteStream(Stream<String> lines, long start) {
            this.lines = lines;
            this.it = lines.iterator();
            this.start = start;
        }

        @Override
        protected String pull() {
            while (!done) {
                String line;
                try {
                    if (!it.hasNext()) throw interrupted("the server closed the stream before its end ([DONE])", null);
                    line = it.next();
                } catch (UncheckedIOException e) {
                    throw interrupted("the stream from " + base + " broke: " + e.getCause().getMessage(), e);
                }
                if (!line.startsWith("data:")) continue; // blank separators, comments, event names
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    done = true;
                    lines.close();
                    break;
                }
                JsonNode chunk;
                try {
                    chunk = Json.MAPPER.readTree(data);
                } catch (IOException e) {
                    throw interrupted("the server sent a chunk that is not JSON: " + data, e);
                }
                if (chunk.has("error")) {
                    // An error after the stream started: the server failed mid-answer (e.g. it is shutting down).
                    JsonNode err = chunk.get("error");
                    throw interrupted("the server failed during the answer: " + err.path("message").asText(), null);
                }
                if (chunk.hasNonNull("usage")) usage = WireFormat.usage(chunk.get("usage"));
                JsonNode choice = chunk.path("choices").path(0);
                if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
                JsonNode delta = choice.path("delta");
                for (JsonNode tc : delta.path("tool_calls")) {
                    String[] c = calls.computeIfAbsent(tc.path("index").asInt(calls.size()), k -> new String[]{null, null, ""});
                    if (tc.hasNonNull("id")) c[0] = tc.get("id").asText();
                    JsonNode fn = tc.path("function");
                    if (fn.hasNonNull("name")) c[1] = fn.get("name").asText();
                    if (fn.hasNonNull("arguments")) c[2] += fn.get("arguments").asText();
                }
                // reasoning (thinking models) is not a piece of the answer: it is collected for the response
                if (delta.path("reasoning_content").isTextual()) {
                    if (reasoning == null) reasoning = new StringBuilder();
                    reasoning.append(delta.get("reasoning_content").asText());
                }
                String piece = delta.path("content").isTextual() ? delta.get("content").asText() : "";
                if (!piece.isEmpty()) {
                    if (first == 0) first = System.nanoTime();
                    content.append(piece);
                    return piece;
                }
            }
            return null;
        }

        private StreamInterruptedException interrupted(String message, Throwable cause) {
            done = true;
            lines.close();
            return new StreamInterruptedException(message, content.toString(), cause);
        }

        @Override
        protected ChatResponse result() {
            List<ToolCall> out = new ArrayList<>();
            for (String[] c : calls.values()) out.add(new ToolCall(c[0], c[1], c[2].isEmpty() ? "{}" : c[2]));
            String text = content.isEmpty() && !out.isEmpty() ? null : content.toString();
            return new ChatResponse(text, out, finish, usage, Timing.since(start, first), Route.remote("server " + base + " answered"),
                    reasoning == null ? null : reasoning.toString());
        }

        /** Closing the body closes the connection: the server notices and frees the slot. */
        @Override
        public void close() {
            done = true;
            lines.close();
        }
    }

    @Override
    public Embeddings embed(List<String> texts) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        if (embeddingModel != null) body.put("model", embeddingModel);
        var input = body.putArray("input");
        texts.forEach(input::add);
        JsonNode root = postJson("/v1/embeddings", body);
        List<float[]> vectors = new ArrayList<>();
        for (JsonNode d : root.path("data")) {
            JsonNode e = d.path("embedding");
            float[] v = new float[e.size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) e.get(i).asDouble();
            vectors.add(v);
        }
        return new Embeddings(vectors, root.path("usage").path("prompt_tokens").asInt(0), Route.remote("server " + base + " answered"));
    }

    /** {@code POST /tokenize} (vLLM's and autoglm serve's; plain OpenAI servers have none and answer 404). */
    @Override
    public int countTokens(String text) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        if (model != null) body.put("model", model);
        body.put("prompt", text);
        body.put("add_special_tokens", false);
        return postJson("/tokenize", body).path("count").asInt();
    }

    /** {@code GET /v1/models}: whether the server answers at all (the hybrid client's probe). */
    void probe() {
        HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v1/models")).timeout(requestTimeout).headers(auth()).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() != 200) throw error(r.statusCode(), r.body());
    }

    private JsonNode postJson(String path, JsonNode body) {
        HttpResponse<String> r = send(post(path, body), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() != 200) throw error(r.statusCode(), r.body());
        try {
            return Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new ServerErrorException(r.statusCode(), null, null, "the server's answer is not JSON: " + abbreviate(r.body()), e);
        }
    }

    private HttpRequest post(String path, JsonNode body) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(requestTimeout).headers(auth())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)).build();
    }

    private String[] auth() {
        return apiKey == null ? new String[]{"Accept", "application/json, text/event-stream"}
                : new String[]{"Accept", "application/json, text/event-stream", "Authorization", "Bearer " + apiKey};
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (HttpConnectTimeoutException e) {
            throw new ServerUnavailableException(0, null, null, "no connection to " + base + " within the connect timeout", e);
        } catch (HttpTimeoutException e) {
            throw new ServerUnavailableException(0, null, null, "no answer from " + base + " within " + requestTimeout, e);
        } catch (ConnectException e) {
            throw new ServerUnavailableException(0, null, null, "cannot connect to " + base + ": " + (e.getMessage() == null ? "connection refused" : e.getMessage()), e);
        } catch (IOException e) {
            throw new ServerUnavailableException(0, null, null, "the connection to " + base + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AutoGLMException("interrupted while waiting for " + base, e);
        } catch (IllegalStateException e) { // HttpClient closed
            throw new AutoGLMException("the client is closed", e);
        }
    }

    /** An error answer as the exception for its status, with the server's message (OpenAI error object). */
    static ServerErrorException error(int status, String body) {
        String message = abbreviate(body), type = null, code = null;
        try {
            JsonNode err = Json.MAPPER.readTree(body).path("error");
            if (err.isObject()) {
                message = err.path("message").asText(message);
                type = err.path("type").asText(null);
                code = err.path("code").isTextual() ? err.get("code").asText() : null;
            }
        } catch (IOException | RuntimeException notJson) {
            // keep the body as the message
        }
        String m = "HTTP " + status + ": " + message;
        if (status == 401) return new AuthenticationException(type, code, m);
        if (status == 403) return new PermissionDeniedException(type, code, m);
        if ("context_length_exceeded".equals(code)) return new ContextLengthExceededException(status, m);
        if (status == 429 || status >= 500) return new ServerUnavailableException(status, type, code, m, null);
        return new ServerErrorException(status, type, code, m);
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() > 500 ? s.substring(0, 500) + "..." : s;
    }

    /** Closes the connections and the HTTP client's threads. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) return;
        http.shutdownNow();
        http.close();
    }
}
