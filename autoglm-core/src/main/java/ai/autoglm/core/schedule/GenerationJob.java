package ai.autoglm.core.schedule;

import ai.autoglm.core.generate.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request as the scheduler sees it: the prompt and how to generate, a deadline, a cancel flag the HTTP side
 * sets when the client goes away, and the queue of {@link JobEvent}s the scheduler fills. The queue is unbounded
 * so the scheduler never waits on a slow client (events are small; a job makes at most max-tokens of them).
 */
public final class GenerationJob {
    private final GenerationRequest request;
    private final boolean logprobs;
    private final int topLogprobs;
    private final boolean ignoreEos;
    private final long submittedNanos = System.nanoTime();
    private final long deadlineNanos;
    private final BlockingQueue<JobEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;
    /** Set by {@link #wakeReaderAtEndsOnly} before submission; read by the scheduler thread only after that. */
    private boolean quiet;
    /** Quiet mode: tokens emitted since the first one and not yet queued (touched by the scheduler thread only). */
    private List<JobEvent> held;
    private boolean firstTokenSent;

    /**
     * @param topLogprobs how many alternatives each token reports (0: none)
     * @param ignoreEos   generate past end-of-generation tokens (vLLM extension {@code ignore_eos})
     * @param timeLimitNanos the most time from submission to the last token
     */
    public GenerationJob(GenerationRequest request, int topLogprobs, boolean ignoreEos, long timeLimitNanos) {
        this(request, topLogprobs > 0, topLogprobs, ignoreEos, timeLimitNanos);
    }

    /**
     * @param logprobs each token's log-probability is wanted (OpenAI {@code logprobs}); without it the sampler skips
     *                 the log-sum-exp over the vocabulary that it costs at every step
     */
    public GenerationJob(GenerationRequest request, boolean logprobs, int topLogprobs, boolean ignoreEos, long timeLimitNanos) {
        this.request = request;
        this.logprobs = logprobs || topLogprobs > 0;
        this.topLogprobs = topLogprobs;
        this.ignoreEos = ignoreEos;
        this.deadlineNanos = submittedNanos + timeLimitNanos;
    }

    public GenerationRequest request() {
        return request;
    }

    public int[] prompt() {
        return request.promptTokens();
    }

    boolean logprobs() {
        return logprobs;
    }

    int topLogprobs() {
        return topLogprobs;
    }

    boolean ignoreEos() {
        return ignoreEos;
    }

    long submittedNanos() {
        return submittedNanos;
    }

    boolean pastDeadline(long now) {
        return now - deadlineNanos > 0;
    }

    /**
     * The client is gone: the scheduler drops the job (freeing its slot) at its next step, and a reader waiting in
     * {@link #next} wakes up with a 499 failure.
     */
    public void cancel() {
        cancelled = true;
        events.add(new JobEvent.Failed(499, "client_closed_request", "the client closed the connection"));
    }

    public boolean cancelled() {
        return cancelled;
    }

    /**
     * For a reader that wants the whole answer rather than each token as it comes (a non-streaming request): the
     * first token is queued at once (its time is the time to first token), the later ones are held and queued
     * together with the event that ends the job (the last token, Finished or Failed), in order. Each queued token
     * otherwise wakes the waiting reader, a thread hand-off per token: on 2 cores a few tens of microseconds of
     * every decode step of the bundled model (bench/sdk/RESULTS.md, "Where the SDK's per-step time went").
     * Call before submitting the job.
     *
     * @return this job
     */
    public GenerationJob wakeReaderAtEndsOnly() {
        quiet = true;
        return this;
    }

    void emit(JobEvent event) {
        if (quiet) {
            boolean ends = !(event instanceof JobEvent.Token t) || t.step().finish() != null;
            if (!ends && firstTokenSent) {
                if (held == null) held = new ArrayList<>();
                held.add(event);
                return;
            }
            if (event instanceof JobEvent.Token) firstTokenSent = true;
            if (held != null && !held.isEmpty()) {
                events.addAll(held); // the reader wakes once for all of them (a LinkedBlockingQueue signals when it was empty)
                held.clear();
            }
        }
        events.add(event);
    }

    /** The next event, waiting at most {@code timeoutMillis}; null on timeout. */
    public JobEvent next(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }
}
