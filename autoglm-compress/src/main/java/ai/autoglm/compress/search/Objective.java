package ai.autoglm.compress.search;

/**
 * Turns a trial into one number to minimise, for the Bayesian search and for ranking: a candidate that meets the
 * constraints scores its mean KLD (quality kept, the thing the user asked to protect); one that does not scores
 * {@link #INFEASIBLE} plus how far it misses, so any feasible candidate beats every infeasible one and the
 * infeasible ones still rank by closeness; one that failed to build scores worst.
 */
public record Objective(Constraints constraints) {
    static final double INFEASIBLE = 1e6;

    public double score(Trial t) {
        if (!t.measured()) return Double.POSITIVE_INFINITY;
        Measurement m = t.measurement();
        return constraints.satisfied(m) ? m.meanKld() : INFEASIBLE + constraints.violation(m);
    }

    /** Lower score first; equal scores: faster decoding first, then smaller memory. */
    public int compare(Trial a, Trial b) {
        int c = Double.compare(score(a), score(b));
        if (c != 0 || !a.measured() || !b.measured()) return c;
        c = Double.compare(b.measurement().tokensPerSecond(), a.measurement().tokensPerSecond());
        return c != 0 ? c : Long.compare(a.measurement().memoryBytes(), b.measurement().memoryBytes());
    }
}
