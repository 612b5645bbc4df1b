package ai.autoglm.server.metrics;

import ai.autoglm.core.schedule.SchedulerListener;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The server's Prometheus metrics (client_java 1.x), in a registry of its own so that several servers in one JVM
 * do not collide. Request counts and latency by route and status; per model: time to first token, tokens
 * generated, decode tokens per second of the last step, queue depth, busy slots and KV-cache use.
 */
public final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("autoglm_http_requests_total")
            .help("HTTP requests by route and status").labelNames("route", "status").register(registry);
    private final Histogram latency = Histogram.builder().name("autoglm_http_request_duration_seconds")
            .help("HTTP request latency, to the last byte").labelNames("route").classicOnly()
            .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300).register(registry);
    private final Histogram ttft = Histogram.builder().name("autoglm_time_to_first_token_seconds")
            .help("Time from a request's arrival at the scheduler to its first token").labelNames("model").classicOnly()
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).register(registry);
    private final Counter generated = Counter.builder().name("autoglm_generated_tokens_total")
            .help("Tokens generated").labelNames("model").register(registry);
    private final Counter prompt = Counter.builder().name("autoglm_prompt_tokens_total")
            .help("Prompt tokens of the requests served").labelNames("model").register(registry);
    private final Counter embedded = Counter.builder().name("autoglm_embedding_inputs_total")
            .help("Inputs embedded by /v1/embeddings").labelNames("model").register(registry);
    private final Counter finished = Counter.builder().name("autoglm_requests_finished_total")
            .help("Generation requests by how they ended (stop, length, timeout, error: as the engine ended them; cancelled: every client that left before its whole answer)").labelNames("model", "outcome").register(registry);
    private final Gauge tokensPerSecond = Gauge.builder().name("autoglm_decode_tokens_per_second")
            .help("Decode tokens per second over all slots in the last engine step").labelNames("model").register(registry);
    private final Histogram stepRows = Histogram.builder().name("autoglm_batch_rows")
            .help("Tokens run per engine step (decode tokens plus prompt chunks)").labelNames("model").classicOnly()
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256, 512).register(registry);
    private final Gauge queueDepth = Gauge.builder().name("autoglm_queue_depth")
            .help("Requests waiting for a slot").labelNames("model").register(registry);
    private final Gauge activeSlots = Gauge.builder().name("autoglm_active_slots")
            .help("Slots generating").labelNames("model").register(registry);
    private final Gauge kvUsage = Gauge.builder().name("autoglm_kv_cache_usage_ratio")
            .help("KV-cache positions in use by running requests over all slots' positions").labelNames("model").register(registry);

    public void request(String route, int status, long nanos) {
        requests.labelValues(route, Integer.toString(status)).inc();
        latency.labelValues(route).observe(nanos / 1e9);
    }

    public void promptTokens(String model, int n) {
        prompt.labelValues(model).inc(n);
    }

    /** A client of a generation request left before its whole answer was sent: outcome {@code cancelled}. */
    public void clientGone(String model) {
        finished.labelValues(model, "cancelled").inc();
    }

    public void embedded(String model, int inputs) {
        embedded.labelValues(model).inc(inputs);
    }

    /** The listener a model's scheduler reports to. */
    public SchedulerListener forModel(String model) {
        return new SchedulerListener() {
            @Override
            public void stepDone(int rows, int decodeRows, long nanos) {
                stepRows.labelValues(model).observe(rows);
                if (decodeRows > 0 && nanos > 0) tokensPerSecond.labelValues(model).set(decodeRows * 1e9 / nanos);
            }

            @Override
            public void firstToken(long nanos) {
                ttft.labelValues(model).observe(nanos / 1e9);
            }

            @Override
            public void occupancy(int queued, int active, long kvUsed, long kvCapacity) {
                queueDepth.labelValues(model).set(queued);
                activeSlots.labelValues(model).set(active);
                kvUsage.labelValues(model).set(kvCapacity == 0 ? 0 : (double) kvUsed / kvCapacity);
            }

            @Override
            public void jobEnded(String outcome, int completionTokens) {
                // A job the scheduler dropped because its client left is counted by the HTTP side (clientGone), which
                // sees every such client, also one whose job had already ended or never left the queue.
                if (!outcome.equals("cancelled")) finished.labelValues(model, outcome).inc();
                generated.labelValues(model).inc(completionTokens);
            }
        };
    }

    /** The Prometheus text exposition format (version 0.0.4). */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
