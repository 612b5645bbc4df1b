package ai.autoglm.train;

/**
 * A tiny seeded generator whose whole state is one {@code long}, so a checkpoint can store it and a resumed run
 * draws exactly the numbers the uninterrupted run would (SplitMix64: Steele, Lea &amp; Flood 2014, as in
 * {@code java.util.SplittableRandom}, whose state cannot be read back).
 */
public final class SplitMix64 {
    private long state;

    public SplitMix64(long state) {
        this.state = state;
    }

    public long state() {
        return state;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound) (bound &gt; 0), by rejection so every value is equally likely. */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
        // Accept r below the largest multiple of bound under 2^64: m = 2^64 mod bound values at the top are rejected.
        long m = (Long.remainderUnsigned(-1L, bound) + 1) % bound;
        while (true) {
            long r = nextLong();
            if (m == 0 || Long.compareUnsigned(r, -m) < 0) return (int) Long.remainderUnsigned(r, bound);
        }
    }

    /** Standard normal by Box-Muller (one of the pair; no cached second value, so the state stays one long). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]
        double u2 = nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
