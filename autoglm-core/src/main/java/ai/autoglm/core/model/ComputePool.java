package ai.autoglm.core.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads of the forward pass: the calling thread plus {@code threads - 1} workers. A parallel loop is
 * published as one {@link Job} whose chunks every thread, the caller included, takes from a shared counter until
 * none are left; the caller then waits for the last chunk. Between loops the workers spin for a short while
 * ({@link #HOT_SPIN_NANOS}), then keep polling but yield their core between polls, and park once {@link #SPIN_NANOS}
 * have passed without a loop.
 *
 * <p>Why not a ForkJoinPool: a decode step is some 150 matrix-vector products of a few hundred microseconds each,
 * separated by microseconds of sequential work (norms, rotary embedding). Under {@code ForkJoinPool.invoke} the
 * caller parked while the workers ran, and a parked worker needs tens of microseconds to wake: with 2 threads
 * decoding was slower than with 1 (numbers: bench/RESULTS.md, "Numbers behind the kernels' design"). Spinning between loops is
 * what llama.cpp's thread pool does too; bounding the spin keeps an idle server from burning its cores.
 *
 * <p>Why yield after {@link #HOT_SPIN_NANOS}: between two forward passes the caller has sequential work of its own
 * (the scheduler samples and hands the token to the thread that reads it, which then wants a core too). A worker
 * that spun hot for the whole 300 us held a core that one of them was waiting for: on 2 cores the scheduler thread
 * of an in-process client (bundled 4.9 M model, one decode step ~0.7 ms) lost a fixed ~0.3 ms every step, the spin's
 * length, and its forward passes ran slower too; polling with {@code Thread.yield()} after the hot window gives the
 * core to whoever is runnable and costs one system call per poll when nobody is (numbers: bench/sdk/RESULTS.md,
 * "Where the SDK's per-step time went").
 */
final class ComputePool {
    /** How long a worker waits for the next loop before parking: longer than the gaps inside a forward pass. */
    private static final long SPIN_NANOS = 300_000;
    /**
     * How long of that a worker spins without giving up its core: longer than the sequential gaps between the loops
     * of one forward pass (norms, rotary embedding: microseconds), so that inside a pass it never yields.
     * {@code -Dautoglm.computeHotSpinNanos=300000} restores the hot spin over the whole wait (for A/B runs).
     */
    private static final long HOT_SPIN_NANOS = Long.getLong("autoglm.computeHotSpinNanos", 50_000);
    /** Chunks per thread: a few, so a thread slowed by something else on its core does not hold up the loop. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** Set on the pool's workers and on a caller while it runs a loop: a nested loop runs on the current thread. */
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private final int threads;
    private final Worker[] workers;
    /** One loop at a time; a second caller meanwhile runs its loop on its own thread instead of waiting. */
    private final ReentrantLock running = new ReentrantLock();
    private volatile Job job;
    private volatile boolean shutdown;

    ComputePool(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("autoglm-compute-" + (i + 1));
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} in chunks on all threads; returns when every chunk is done. */
    void run(int n, Parallel.RangeBody body) {
        if (workers.length == 0 || n < 2 || INSIDE.get() || !running.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            INSIDE.set(Boolean.TRUE);
            Job j = new Job(body, n, Math.min(n, threads * CHUNKS_PER_THREAD));
            job = j;
            for (Worker w : workers) {
                if (w.parked) LockSupport.unpark(w);
            }
            j.work();
            for (int spins = 0; j.done.get() < j.chunks; spins++) {
                if (spins < 1 << 16) Thread.onSpinWait();
                else Thread.yield(); // a worker is descheduled: give it the core
            }
            job = null; // let the body's arrays go
            if (j.failure != null) {
                if (j.failure instanceof RuntimeException e) throw e;
                if (j.failure instanceof Error e) throw e;
                throw new IllegalStateException(j.failure);
            }
        } finally {
            INSIDE.set(Boolean.FALSE);
            running.unlock();
        }
    }

    /** Stops the workers once they finish what they are doing. */
    void shutdown() {
        shutdown = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    /** For tests: whether a worker thread is still running. */
    boolean anyWorkerAlive() {
        for (Worker w : workers) if (w.isAlive()) return true;
        return false;
    }

    /** One parallel loop: chunk c covers {@code [c*n/chunks, (c+1)*n/chunks)}. */
    private static final class Job {
        final Parallel.RangeBody body;
        final int n;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(Parallel.RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    body.run((int) ((long) c * n / chunks), (int) ((long) (c + 1) * n / chunks));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            INSIDE.set(Boolean.TRUE);
            Job seen = null;
            while (!shutdown) {
                Job j = job;
                if (j != null && j != seen) {
                    seen = j;
                    j.work();
                    continue;
                }
                long deadline = System.nanoTime() + SPIN_NANOS;
                long hotUntil = deadline - SPIN_NANOS + HOT_SPIN_NANOS;
                for (long now = System.nanoTime(); job == j && !shutdown && now < deadline; now = System.nanoTime()) {
                    if (now < hotUntil) Thread.onSpinWait();
                    else Thread.yield(); // someone else may be waiting for this core: the caller's own sequential work
                }
                if (job != j || shutdown) continue;
                // Park, unless a job arrived between the check above and here: run() reads `parked` after it
                // writes `job`, this thread writes `parked` before it reads `job` (both volatile).
                parked = true;
                if (job == j && !shutdown) LockSupport.park(this);
                parked = false;
            }
        }
    }
}
