package ai.autoglm.core.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The forward pass's thread pool: every index exactly once, on several threads, nested and concurrent loops, failures. */
class ComputePoolTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossThreads() {
        ComputePool pool = new ComputePool(3);
        try {
            for (int n : new int[]{2, 3, 7, 12, 13, 1000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.run(n, (from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n %d index %d", n, i).isEqualTo(1);
            }
            // Enough work per chunk that the workers take part (not only the caller).
            Set<String> names = ConcurrentHashMap.newKeySet();
            for (int round = 0; round < 200 && names.size() < 2; round++) {
                pool.run(12, (from, to) -> {
                    names.add(Thread.currentThread().getName());
                    long end = System.nanoTime() + 200_000;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                });
            }
            assertThat(names).hasSizeGreaterThan(1);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void nestedLoopsRunOnTheCurrentThreadAndConcurrentCallersBothFinish() throws InterruptedException {
        ComputePool pool = new ComputePool(2);
        try {
            AtomicLong sum = new AtomicLong();
            pool.run(8, (from, to) -> pool.run(10, (a, b) -> sum.addAndGet(b - a)));
            assertThat(sum.get()).isEqualTo(8 * 10);

            AtomicLong total = new AtomicLong();
            List<Thread> callers = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                callers.add(Thread.ofPlatform().start(() -> {
                    for (int r = 0; r < 200; r++) pool.run(100, (a, b) -> total.addAndGet(b - a));
                }));
            }
            for (Thread t : callers) t.join();
            assertThat(total.get()).isEqualTo(4L * 200 * 100);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aFailingChunkFailsTheLoopAndThePoolKeepsWorking() {
        ComputePool pool = new ComputePool(2);
        try {
            assertThatThrownBy(() -> pool.run(10, (from, to) -> {
                if (from <= 5 && 5 < to) throw new IllegalStateException("chunk with 5");
            })).isInstanceOf(IllegalStateException.class).hasMessage("chunk with 5");
            AtomicLong sum = new AtomicLong();
            pool.run(10, (from, to) -> sum.addAndGet(to - from));
            assertThat(sum.get()).isEqualTo(10);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void shutDownWorkersEnd() throws InterruptedException {
        ComputePool pool = new ComputePool(3);
        pool.run(4, (from, to) -> { });
        assertThat(pool.anyWorkerAlive()).isTrue();
        pool.shutdown();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pool.anyWorkerAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(pool.anyWorkerAlive()).isFalse();
    }
}
