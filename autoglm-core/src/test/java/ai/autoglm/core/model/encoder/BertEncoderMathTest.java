package ai.autoglm.core.model.encoder;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The encoder's erf and GELU against erf computed here by numerical integration of 2/sqrt(pi) exp(-t^2). */
class BertEncoderMathTest {

    /** Composite Simpson's rule on [0, x] with 20000 intervals: error far below 1e-10 for |x| <= 6. */
    private static double erfByIntegration(double x) {
        int n = 20000;
        double h = x / n;
        double sum = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) {
            double t = i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t);
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }

    @Test
    void erfMatchesIntegration() {
        for (double x = -6; x <= 6; x += 0.0371) {
            assertThat(BertEncoder.erf(x)).as("erf(%f)", x).isCloseTo(erfByIntegration(x), within(2e-7));
        }
        assertThat(BertEncoder.erf(0)).isCloseTo(0, within(1e-9));
    }

    @Test
    void geluIsXTimesTheNormalCdf() {
        for (float x = -8; x <= 8; x += 0.173f) {
            double expected = 0.5 * x * (1 + erfByIntegration(x / Math.sqrt(2)));
            assertThat((double) BertEncoder.gelu(x)).as("gelu(%f)", x).isCloseTo(expected, within(2e-6 + 1e-6 * Math.abs(x)));
        }
    }
}
