package ai.autoglm.core.model;

/**
 * A projection stored as two factors, {@code W ≈ B · A} with A of {@code rank} rows of {@code inputDim} and B of
 * {@code outputDim} rows of {@code rank}, run as two matmuls: {@code t = A x}, then {@code y = B t}. For rank r this
 * reads {@code r * (in + out)} weights instead of {@code in * out}, so it is smaller and faster whenever
 * {@code r < in*out / (in+out)}.
 *
 * <p>GGUF naming (this project's extension; llama.cpp does not know it and will not load such files): the factors of
 * {@code blk.N.attn_q.weight} are {@code blk.N.attn_q.lr_a.weight} (shape {@code [in, r]}) and
 * {@code blk.N.attn_q.lr_b.weight} (shape {@code [r, out]}); the dense tensor is then absent.
 */
public final class LowRankProjection implements Projection {
    /** The intermediate rows of the current thread, grown on demand (forward passes of one model may run on several threads). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private final Projection a;
    private final Projection b;

    public LowRankProjection(Projection a, Projection b) {
        if (a.outputDim() != b.inputDim()) {
            throw new IllegalArgumentException("factor A has " + a.outputDim() + " outputs but factor B takes " + b.inputDim());
        }
        this.a = a;
        this.b = b;
    }

    /** The name of factor A of the dense tensor {@code weightName} ({@code X.weight -> X.lr_a.weight}). */
    public static String factorA(String weightName) {
        return stem(weightName) + ".lr_a.weight";
    }

    /** The name of factor B of the dense tensor {@code weightName} ({@code X.weight -> X.lr_b.weight}). */
    public static String factorB(String weightName) {
        return stem(weightName) + ".lr_b.weight";
    }

    private static String stem(String weightName) {
        if (!weightName.endsWith(".weight")) throw new IllegalArgumentException("not a weight tensor name: " + weightName);
        return weightName.substring(0, weightName.length() - ".weight".length());
    }

    public int rank() {
        return a.outputDim();
    }

    @Override
    public int inputDim() {
        return a.inputDim();
    }

    @Override
    public int outputDim() {
        return b.outputDim();
    }

    @Override
    public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
        int need = Math.multiplyExact(n, rank());
        float[] t = SCRATCH.get();
        if (t.length < need) {
            t = new float[need];
            SCRATCH.set(t);
        }
        a.apply(x, xOff, t, 0, n);
        b.apply(t, 0, out, outOff, n);
    }
}
