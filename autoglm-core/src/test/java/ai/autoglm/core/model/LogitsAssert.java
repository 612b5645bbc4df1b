package ai.autoglm.core.model;

import static org.assertj.core.api.Assertions.assertThat;

/** Logit comparisons relative to the largest reference logit of the row. */
final class LogitsAssert {
    private LogitsAssert() {
    }

    /** max_i |actual_i - expected_i| / max_i |expected_i| for one row. */
    static double relativeError(float[] actual, int offset, double[] expected) {
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(actual[offset + i] - expected[i]));
        }
        return maxDiff / maxRef;
    }

    static void assertRowsClose(String what, float[] actual, double[][] expected, double tolerance) {
        int vocab = expected[0].length;
        assertThat(actual).hasSize(expected.length * vocab);
        for (int t = 0; t < expected.length; t++) {
            double err = relativeError(actual, t * vocab, expected[t]);
            assertThat(err).as("%s: relative error at position %d", what, t).isLessThanOrEqualTo(tolerance);
        }
    }

    static double[] toDouble(float[] v, int off, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = v[off + i];
        return d;
    }
}
