package ai.autoglm.compress.lowrank;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SvdTest {

    private static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    @Test
    void reconstructsWithOrthonormalFactorsOnOddShapes() {
        Random r = new Random(11);
        int[][] shapes = {{7, 3}, {3, 7}, {5, 5}, {1, 4}, {4, 1}, {13, 9}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1];
            double[] a = random(r, m * n);
            Svd svd = Svd.of(a.clone(), m, n);
            int k = Math.min(m, n);
            assertThat(svd.k()).isEqualTo(k);
            for (int i = 0; i < k; i++) {
                assertThat(svd.s()[i]).isGreaterThanOrEqualTo(0);
                if (i > 0) assertThat(svd.s()[i]).isLessThanOrEqualTo(svd.s()[i - 1]);
            }
            // A = U S V^T
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double v = 0;
                    for (int p = 0; p < k; p++) v += svd.u()[i * k + p] * svd.s()[p] * svd.v()[j * k + p];
                    assertThat(v).as("%dx%d [%d,%d]", m, n, i, j).isCloseTo(a[i * n + j], within(1e-10));
                }
            }
            assertOrthonormalColumns(svd.u(), m, k);
            assertOrthonormalColumns(svd.v(), n, k);
        }
    }

    private static void assertOrthonormalColumns(double[] q, int rows, int k) {
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) dot += q[i * k + a] * q[i * k + b];
                assertThat(dot).isCloseTo(a == b ? 1 : 0, within(1e-10));
            }
        }
    }

    /** Independent checks of the values: sum s^2 = ||A||_F^2, and s_0 from power iteration on A^T A. */
    @Test
    void singularValuesMatchFrobeniusNormAndPowerIteration() {
        Random r = new Random(12);
        int m = 11, n = 6;
        double[] a = random(r, m * n);
        Svd svd = Svd.of(a.clone(), m, n);
        double fro = 0, sumS2 = 0;
        for (double x : a) fro += x * x;
        for (double s : svd.s()) sumS2 += s * s;
        assertThat(sumS2).isCloseTo(fro, within(1e-9));
        double[] x = new double[n];
        java.util.Arrays.fill(x, 1);
        double lambda = 0;
        for (int it = 0; it < 2000; it++) {
            double[] ax = new double[m], atax = new double[n];
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) ax[i] += a[i * n + j] * x[j];
            for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) atax[j] += a[i * n + j] * ax[i];
            double norm = 0;
            for (double v : atax) norm += v * v;
            norm = Math.sqrt(norm);
            lambda = norm;
            for (int j = 0; j < n; j++) x[j] = atax[j] / norm;
        }
        assertThat(svd.s()[0]).isCloseTo(Math.sqrt(lambda), within(1e-8));
    }

    @Test
    void energyRankIsTheSmallestRankHoldingTheShare() {
        Svd svd = new Svd(3, 3, new double[9], new double[]{3, 2, 1}, new double[9]); // energies 9, 4, 1 of 14
        assertThat(svd.rankForEnergy(9.0 / 14)).isEqualTo(1);
        assertThat(svd.rankForEnergy(9.5 / 14)).isEqualTo(2);
        assertThat(svd.rankForEnergy(13.0 / 14)).isEqualTo(2);
        assertThat(svd.rankForEnergy(1.0)).isEqualTo(3);
        assertThat(svd.energy(2)).isCloseTo(13.0 / 14, within(1e-15));
        assertThatThrownBy(() -> svd.rankForEnergy(0)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> Svd.of(new double[]{1, Double.NaN}, 1, 2)).hasMessageContaining("non-finite");
    }
}
