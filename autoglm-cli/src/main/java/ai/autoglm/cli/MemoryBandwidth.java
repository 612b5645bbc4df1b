package ai.autoglm.cli;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Read bandwidth from main memory, the ceiling of token generation (every weight is read once per token):
 * {@code threads} threads each sum their share of a buffer far larger than the caches with Vector API loads,
 * best of several passes (as STREAM reports its best time). Used by {@code autoglm bench --bandwidth} for the
 * roofline column of bench/RESULTS.md.
 */
final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {
    }

    /** Bytes per second reading {@code bytes} bytes with {@code threads} threads, best of {@code passes}. */
    static double measure(long bytes, int threads, int passes) throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1); // touch every page so the first pass does not measure page faults
            double best = 0;
            float[] sink = new float[threads];
            for (int p = 0; p < passes; p++) {
                Thread[] workers = new Thread[threads];
                long share = bytes / threads / 64 * 64;
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    final int id = t;
                    workers[t] = Thread.ofPlatform().start(() -> sink[id] = sum(buf, id * share, share));
                }
                for (Thread w : workers) w.join();
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, share * threads / seconds);
            }
            if (Float.isNaN(sink[0])) System.err.print(""); // keep the sums alive
            return best;
        }
    }

    private static float sum(MemorySegment seg, long from, long length) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long step = F.vectorByteSize(), end = from + length - 4 * step;
        long at = from;
        for (; at <= end; at += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, seg, at + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, seg, at + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, seg, at + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        float s = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        for (; at < from + length; at += 4) s += seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at);
        return s;
    }
}
