package ai.autoglm.server.models;

import ai.autoglm.core.model.encoder.BertEmbeddingModel;
import ai.autoglm.server.gateway.GatewayException;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loaded embedding model. The encoder already spreads one call over every core ({@code Parallel}), so calls run
 * one at a time (a fair queue; waiting costs a virtual thread nothing) instead of competing for the cores. Counts
 * the requests holding it so that keep-alive never unloads it under one of them.
 */
public final class ServedEmbeddingModel implements AutoCloseable {
    private final String alias;
    private final BertEmbeddingModel model;
    private final Semaphore turn = new Semaphore(1, true);
    private final AtomicInteger inUse = new AtomicInteger();
    private volatile long lastUsedNanos = System.nanoTime();

    ServedEmbeddingModel(String alias, BertEmbeddingModel model) {
        this.alias = alias;
        this.model = model;
    }

    public String alias() {
        return alias;
    }

    public BertEmbeddingModel model() {
        return model;
    }

    /**
     * Embeds already tokenized inputs (each with its [CLS]/[SEP]) in order, waiting for its turn at most {@code timeout}
     * (then 503, like a generation request that could not start in time).
     */
    public float[][] embed(List<int[]> inputs, Duration timeout) {
        try {
            if (!turn.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new GatewayException(503, "timeout_error", null, null, "the request's time limit passed while it waited for the model");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException(503, "server_error", null, null, "the server is shutting down");
        }
        try {
            return model.embedTokens(inputs);
        } finally {
            turn.release();
        }
    }

    /** Taken by the registry (under its lock) for every request; given back with {@link #release}. */
    void retain() {
        inUse.incrementAndGet();
        lastUsedNanos = System.nanoTime();
    }

    public void release() {
        lastUsedNanos = System.nanoTime();
        inUse.decrementAndGet();
    }

    boolean idleFor(long nanos) {
        return inUse.get() == 0 && System.nanoTime() - lastUsedNanos >= nanos;
    }

    @Override
    public void close() {
        model.close();
    }
}
