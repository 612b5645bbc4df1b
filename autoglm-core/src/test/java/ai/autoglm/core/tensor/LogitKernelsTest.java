package ai.autoglm.core.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The sampler's vocabulary passes against scalar double-precision loops written here, for sizes around the lanes and blocks. */
class LogitKernelsTest {

    @Test
    void copyAndLogSumExpAgreeWithScalarLoops() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "the Vector API is off (the sampler then runs its scalar loops)");
        Random r = new Random(3);
        for (int n : new int[]{1, 15, 16, 17, 1023, 1024, 1025, 32000, 128256}) {
            float[] logits = new float[n];
            for (int i = 0; i < n; i++) logits[i] = (float) (r.nextGaussian() * 8);
            if (n > 20) {
                logits[3] = Float.NaN;
                logits[7] = Float.NEGATIVE_INFINITY;
                logits[n - 1] = Float.NaN;
            }
            float[] raw = new float[n], work = new float[n];
            float max = LogitKernels.copyWithoutNaN(logits, raw, work, n);
            float refMax = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                float expected = Float.isNaN(logits[i]) ? Float.NEGATIVE_INFINITY : logits[i];
                assertThat(raw[i]).as("raw[%d] of %d", i, n).isEqualTo(expected);
                assertThat(work[i]).as("work[%d] of %d", i, n).isEqualTo(expected);
                refMax = Math.max(refMax, expected);
            }
            assertThat(max).isEqualTo(refMax);
            double ref = 0;
            for (int i = 0; i < n; i++) ref += Math.exp((double) raw[i] - refMax);
            assertThat(Math.log(LogitKernels.sumExp(raw, n, max))).as("log-sum-exp of %d", n).isCloseTo(Math.log(ref), within(1e-6));
        }
    }
}
