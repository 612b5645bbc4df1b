package ai.autoglm.core.schedule;

import ai.autoglm.core.generate.FinishReason;
import ai.autoglm.core.generate.GenerationStream;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.model.BatchEntry;
import ai.autoglm.core.model.LanguageModel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Continuous batching over a fixed set of slots (vLLM's split: this class decides who runs in the next step,
 * {@link LanguageModel#forwardBatch} is the engine step, the HTTP side only submits jobs and reads events).
 *
 * <p>Each slot owns a {@link Sequence} (its own KV cache of {@code contextPerSlot} positions). Every step, on one
 * platform thread: drop jobs whose client left or whose time is up; move waiting jobs into free slots, choosing
 * the slot whose cached tokens share the longest prefix with the prompt; then run one forward pass holding the
 * next token of every decoding slot plus prompt chunks of the slots still prefilling (at most
 * {@code prefillBudget} prompt tokens per step, so a long prompt does not stall the others), and sample.
 * New requests thus join between decode steps, and one pass over the weights serves every active sequence.
 * A failing request is isolated: if the batched pass throws, the entries are rerun one by one and only the
 * failing one's job fails.
 */
public final class ContinuousBatchScheduler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ContinuousBatchScheduler.class.getName());

    private final LanguageModel model;
    private final Slot[] slots;
    private final BlockingQueue<GenerationJob> queue;
    private final int queueCapacity;
    private final int prefillBudget;
    private final SchedulerListener listener;
    private final Thread thread;
    private volatile boolean running = true;
    /** Set by {@link #endAll}: every job ends at the next step with finish reason {@code shutdown}. */
    private volatile boolean ending;
    private volatile int activeCount;
    private volatile long lastBusyNanos = System.nanoTime();

    /** One sequence slot; the fields are touched by the scheduler thread only. */
    private static final class Slot {
        final Sequence sequence;
        GenerationJob job;
        GenerationStream stream;
        int[] prompt;
        int cachedPrompt;
        int prefillNext;   // index of the next prompt token to run; prompt.length once prefilled
        int rowsThisStep;  // prompt rows in the current step (0 when decoding)
        boolean sentFirst;
        long idleSince;

        Slot(Sequence sequence) {
            this.sequence = sequence;
        }
    }

    /**
     * @param slots          sequences served at once
     * @param contextPerSlot KV cache positions of each slot (prompt plus answer)
     * @param queueCapacity  jobs that may wait for a slot before {@link #submit} refuses
     * @param prefillBudget  prompt tokens run per step across all prefilling slots (at least 1)
     */
    public ContinuousBatchScheduler(String name, LanguageModel model, int slots, int contextPerSlot, int queueCapacity,
                                    int prefillBudget, SchedulerListener listener) {
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1, got " + slots);
        if (queueCapacity < 0) throw new IllegalArgumentException("queue size must be >= 0, got " + queueCapacity);
        if (prefillBudget < 1) throw new IllegalArgumentException("prefill budget must be at least 1, got " + prefillBudget);
        this.model = model;
        this.slots = new Slot[slots];
        for (int i = 0; i < slots; i++) this.slots[i] = new Slot(new Sequence(model, contextPerSlot));
        this.queueCapacity = queueCapacity;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, queueCapacity));
        this.prefillBudget = prefillBudget;
        this.listener = listener;
        this.thread = Thread.ofPlatform().name("autoglm-scheduler-" + name).daemon(true).start(this::loop);
    }

    /** Positions each slot holds: the longest prompt plus answer a request may have. */
    public int contextPerSlot() {
        return slots[0].sequence.capacity();
    }

    public LanguageModel model() {
        return model;
    }

    /**
     * Queues a job. A free slot picks it up before the next step.
     *
     * @throws QueueFullException when {@code queueCapacity} jobs already wait
     */
    public void submit(GenerationJob job) {
        if (!running) throw new IllegalStateException("scheduler stopped");
        if (queueCapacity == 0 && activeCount >= slots.length || !queue.offer(job)) throw new QueueFullException(queueCapacity);
        lastBusyNanos = System.nanoTime();
    }

    /** Counts as activity for {@link #idleFor} (a request is about to be submitted). */
    public void touch() {
        lastBusyNanos = System.nanoTime();
    }

    /** Slots serving a job. */
    public int active() {
        return activeCount;
    }

    /** Whether no job is running or waiting and none has been for at least {@code nanos}. */
    public boolean idleFor(long nanos) {
        return activeCount == 0 && queue.isEmpty() && System.nanoTime() - lastBusyNanos >= nanos;
    }

    private void loop() {
        while (running) {
            try {
                step();
            } catch (InterruptedException e) {
                if (!running) break;
            } catch (Throwable t) {
                // A bug of ours in the loop itself: fail the running jobs rather than the server.
                LOG.log(Level.SEVERE, "scheduler step failed", t);
                for (Slot s : slots) if (s.job != null) fail(s, 500, "server_error", "internal error while generating");
            }
        }
        for (Slot s : slots) if (s.job != null) fail(s, 503, "server_error", "the model was unloaded");
        GenerationJob j;
        while ((j = queue.poll()) != null) j.emit(new JobEvent.Failed(503, "server_error", "the model was unloaded"));
    }

    /**
     * Ends every running and waiting job at the next step as a normal end with finish reason {@code shutdown}
     * (the server's shutdown grace period is over): each client gets what was generated so far, the finish reason
     * saying why it stopped, and its usage, instead of a cut connection. Jobs submitted later end the same way.
     */
    public void endAll() {
        ending = true; // an idle loop sees it within its 100 ms wait for the queue
    }

    private void endForShutdown(GenerationJob job, int promptTokens, int cachedPromptTokens, int generated) {
        job.emit(new JobEvent.Token(new GenerationStream.Step(-1, false, "", 0f, new int[0], new float[0], FinishReason.SHUTDOWN)));
        job.emit(new JobEvent.Finished(promptTokens, cachedPromptTokens, generated));
        listener.jobEnded("shutdown", generated);
    }

    private void step() throws InterruptedException {
        long now = System.nanoTime();
        if (ending) {
            for (Slot s : slots) {
                if (s.job == null || s.job.cancelled()) continue;
                endForShutdown(s.job, s.prompt.length, s.cachedPrompt, s.stream.generated());
                free(s);
            }
            GenerationJob waiting;
            while ((waiting = queue.poll()) != null) {
                if (!waiting.cancelled()) endForShutdown(waiting, waiting.prompt().length, 0, 0);
            }
        }
        for (Slot s : slots) {
            if (s.job == null) continue;
            if (s.job.cancelled()) {
                release(s, "cancelled");
            } else if (s.job.pastDeadline(now)) {
                if (s.stream.generated() > 0) {
                    // Time is up after some output: end it like max_tokens, keeping what was generated.
                    s.job.emit(new JobEvent.Token(new GenerationStream.Step(-1, false, "", 0f, new int[0], new float[0], FinishReason.LENGTH)));
                    finishNormally(s, "timeout");
                } else {
                    fail(s, 503, "timeout_error", "the request's time limit passed before its first token");
                }
            }
        }
        admitWaitingJobs();
        if (activeCount == 0) {
            report();
            GenerationJob job = queue.poll(100, TimeUnit.MILLISECONDS);
            if (job != null) {
                admit(job);
                admitWaitingJobs();
            }
            if (activeCount == 0) return;
        }
        lastBusyNanos = System.nanoTime();

        List<BatchEntry> entries = new ArrayList<>();
        List<Slot> owners = new ArrayList<>();
        int budget = prefillBudget, decodeRows = 0, rows = 0;
        for (Slot s : slots) {
            if (s.job == null) continue;
            s.rowsThisStep = 0;
            if (s.prefillNext < s.prompt.length) {
                if (budget <= 0) continue; // waits for a later step
                int k = Math.min(budget, s.prompt.length - s.prefillNext);
                entries.add(new BatchEntry(s.sequence.state(), s.prompt, s.prefillNext, k));
                s.rowsThisStep = k;
                budget -= k;
                rows += k;
            } else {
                entries.add(new BatchEntry(s.sequence.state(), s.sequence.tokens(), s.sequence.historyLength() - 1, 1));
                decodeRows++;
                rows++;
            }
            owners.add(s);
        }
        long start = System.nanoTime();
        float[][] logits = forwardIsolatingFailures(entries, owners);
        listener.stepDone(rows, decodeRows, System.nanoTime() - start);

        for (int i = 0; i < owners.size(); i++) {
            Slot s = owners.get(i);
            if (logits[i] == null || s.job == null) continue;
            if (s.rowsThisStep > 0) {
                s.prefillNext += s.rowsThisStep;
                if (s.prefillNext < s.prompt.length) continue;
            }
            GenerationStream.Step step;
            try {
                step = s.stream.accept(logits[i]);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sampling failed", e);
                fail(s, 500, "server_error", "sampling failed: " + e.getMessage());
                continue;
            }
            if (!s.sentFirst) {
                s.sentFirst = true;
                listener.firstToken(System.nanoTime() - s.job.submittedNanos());
            }
            s.job.emit(new JobEvent.Token(step));
            if (step.finish() != null) finishNormally(s, step.finish().wireName);
        }
        report();
    }

    /** The batched pass; if it throws, each entry alone, so that one bad request fails only itself. */
    private float[][] forwardIsolatingFailures(List<BatchEntry> entries, List<Slot> owners) {
        try {
            return model.forwardBatch(entries);
        } catch (RuntimeException batchFailure) {
            float[][] out = new float[entries.size()][];
            for (int i = 0; i < entries.size(); i++) {
                try {
                    out[i] = model.forwardBatch(List.of(entries.get(i)))[0];
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "forward pass failed for one request", e);
                    fail(owners.get(i), 500, "server_error", "the forward pass failed: " + e.getMessage());
                }
            }
            return out;
        }
    }

    private void admitWaitingJobs() {
        while (activeCount < slots.length) {
            GenerationJob job = queue.poll();
            if (job == null) return;
            admit(job);
        }
    }

    /** Puts a job into the free slot whose cache shares the longest prefix with its prompt (then the longest idle). */
    private void admit(GenerationJob job) {
        if (job.cancelled()) return;
        if (job.pastDeadline(System.nanoTime())) {
            job.emit(new JobEvent.Failed(503, "timeout_error", "the request's time limit passed while it waited for a slot"));
            listener.jobEnded("timeout", 0);
            return;
        }
        Slot best = null;
        int bestPrefix = -1;
        for (Slot s : slots) {
            if (s.job != null) continue;
            int p = s.sequence.reusablePrefix(job.prompt());
            if (p > bestPrefix || (p == bestPrefix && s.idleSince < best.idleSince)) {
                best = s;
                bestPrefix = p;
            }
        }
        if (best == null) throw new IllegalStateException("admit without a free slot");
        try {
            best.stream = new GenerationStream(model, best.sequence, job.request(), job.logprobs(), job.topLogprobs(), job.ignoreEos());
        } catch (RuntimeException e) { // the HTTP side checks the context first; this is the last line
            job.emit(new JobEvent.Failed(400, "invalid_request_error", e.getMessage()));
            listener.jobEnded("error", 0);
            return;
        }
        best.job = job;
        best.prompt = job.prompt();
        best.prefillNext = best.sequence.startPrompt(job.prompt());
        best.cachedPrompt = best.prefillNext;
        best.sentFirst = false;
        activeCount++;
    }

    private void finishNormally(Slot s, String outcome) {
        s.job.emit(new JobEvent.Finished(s.prompt.length, s.cachedPrompt, s.stream.generated()));
        listener.jobEnded(outcome, s.stream.generated());
        free(s);
    }

    private void fail(Slot s, int status, String type, String message) {
        s.job.emit(new JobEvent.Failed(status, type, message));
        listener.jobEnded(type.equals("timeout_error") ? "timeout" : "error", s.stream == null ? 0 : s.stream.generated());
        free(s);
    }

    private void release(Slot s, String outcome) {
        listener.jobEnded(outcome, s.stream.generated());
        free(s);
    }

    private void free(Slot s) {
        s.job = null;
        s.stream = null;
        s.prompt = null;
        s.idleSince = System.nanoTime();
        activeCount--;
    }

    private void report() {
        long used = 0, capacity = 0;
        for (Slot s : slots) {
            used += s.job == null ? 0 : s.sequence.state().position();
            capacity += s.sequence.capacity();
        }
        listener.occupancy(queue.size(), activeCount, used, capacity);
    }

    /**
     * Stops the loop; running and waiting jobs fail with 503. Does not close the model. Frees the slots' KV caches
     * (off-heap) once the loop has stopped; a loop still running after the wait keeps them (the GC frees them later).
     */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            for (Slot s : slots) s.sequence.close();
        }
    }
}
