package ai.autoglm.compress.search;

/**
 * What a result must satisfy: the runtime memory budget always, and optionally a largest mean KLD or a smallest
 * top-1 agreement.
 */
public record Constraints(long budgetBytes, Double maxMeanKld, Double minTop1) {
    public Constraints {
        if (budgetBytes <= 0) throw new IllegalArgumentException("the memory budget must be positive");
        if (maxMeanKld != null && !(maxMeanKld >= 0)) throw new IllegalArgumentException("--max-kld must be >= 0");
        if (minTop1 != null && !(minTop1 >= 0 && minTop1 <= 1)) throw new IllegalArgumentException("--min-top1 must be in [0, 1]");
    }

    public boolean fitsBudget(Measurement m) {
        return m.memoryBytes() <= budgetBytes;
    }

    public boolean satisfied(Measurement m) {
        return fitsBudget(m) && (maxMeanKld == null || m.meanKld() <= maxMeanKld) && (minTop1 == null || m.top1() >= minTop1);
    }

    /**
     * How far a measurement is from satisfying the constraints, as a sum of relative overshoots (0 when satisfied):
     * the "closest" trial when none satisfies them.
     */
    public double violation(Measurement m) {
        double v = Math.max(0, (double) m.memoryBytes() / budgetBytes - 1);
        if (maxMeanKld != null) v += Math.max(0, m.meanKld() - maxMeanKld) / Math.max(maxMeanKld, 1e-9);
        if (minTop1 != null) v += Math.max(0, minTop1 - m.top1());
        return v;
    }
}
