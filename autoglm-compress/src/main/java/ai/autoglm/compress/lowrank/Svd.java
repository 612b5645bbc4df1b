package ai.autoglm.compress.lowrank;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The thin singular value decomposition {@code A = U diag(s) V^T} of a {@code rows x cols} matrix, {@code k = min(rows,
 * cols)} singular values in descending order, U ({@code rows x k}) and V ({@code cols x k}) with orthonormal columns,
 * all row-major double. Computed by EJML (Golub-Kahan bidiagonalisation then implicit-shift QR, Golub &amp; Van Loan
 * §8.6): a small, well-kept pure-Java library, faster and better tested than a hand-written Jacobi sweep.
 */
public record Svd(int rows, int cols, double[] u, double[] s, double[] v) {

    public int k() {
        return s.length;
    }

    /** The SVD of row-major {@code a}. */
    public static Svd of(double[] a, int rows, int cols) {
        if (rows < 1 || cols < 1 || (long) rows * cols != a.length) {
            throw new IllegalArgumentException("matrix of " + a.length + " values is not " + rows + " x " + cols);
        }
        for (double x : a) if (!Double.isFinite(x)) throw new IllegalArgumentException("matrix holds a non-finite value " + x);
        DMatrixRMaj m = new DMatrixRMaj(rows, cols, true, a);
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(rows, cols, true, true, true);
        if (!svd.decompose(m)) throw new IllegalStateException("SVD did not converge on a " + rows + " x " + cols + " matrix");
        DMatrixRMaj u = svd.getU(null, false), w = svd.getW(null), v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        int k = Math.min(rows, cols);
        double[] s = new double[k];
        for (int i = 0; i < k; i++) s[i] = w.get(i, i);
        return new Svd(rows, cols, firstColumns(u, k), s, firstColumns(v, k));
    }

    private static double[] firstColumns(DMatrixRMaj m, int k) {
        double[] out = new double[m.numRows * k];
        for (int r = 0; r < m.numRows; r++) for (int c = 0; c < k; c++) out[r * k + c] = m.get(r, c);
        return out;
    }

    /** The smallest rank whose singular values hold at least {@code energy} of {@code sum s_i^2}. */
    public int rankForEnergy(double energy) {
        if (!(energy > 0 && energy <= 1)) throw new IllegalArgumentException("energy must be in (0, 1], got " + energy);
        double total = 0;
        for (double x : s) total += x * x;
        if (total == 0) return 1;
        double acc = 0;
        for (int r = 0; r < s.length; r++) {
            acc += s[r] * s[r];
            if (acc >= energy * total * (1 - 1e-12)) return r + 1;
        }
        return s.length;
    }

    /** Share of {@code sum s_i^2} in the first {@code rank} singular values. */
    public double energy(int rank) {
        double total = 0, kept = 0;
        for (int i = 0; i < s.length; i++) {
            total += s[i] * s[i];
            if (i < rank) kept += s[i] * s[i];
        }
        return total == 0 ? 1 : kept / total;
    }
}
