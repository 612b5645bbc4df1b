package ai.autoglm.core.model;

import ai.autoglm.core.tensor.ArrayFloatTensor;

import java.util.List;

/**
 * A base projection plus LoRA updates, applied without merging: {@code y = W x + sum scale * B (A x)} (PEFT
 * tuners/lora/layer.py {@code Linear.forward}: {@code result + lora_B(lora_A(dropout(x))) * scaling}; dropout is
 * off at inference). The base keeps its GGML type (a Q4 base stays Q4); each update costs
 * {@code rank * (in + out)} multiply-adds per token instead of {@code in * out}.
 */
public final class LoraProjection implements Projection {
    private final Projection base;
    private final List<LoraUpdate> updates;
    private final ArrayFloatTensor[] a;
    private final ArrayFloatTensor[] scaledB;

    public LoraProjection(Projection base, List<LoraUpdate> updates) {
        this.base = base;
        this.updates = List.copyOf(updates);
        this.a = new ArrayFloatTensor[this.updates.size()];
        this.scaledB = new ArrayFloatTensor[this.updates.size()];
        for (int i = 0; i < a.length; i++) {
            LoraUpdate u = this.updates.get(i);
            if (u.inputDim() != base.inputDim() || u.rowOffset() + u.outputRows() > base.outputDim()) {
                throw new IllegalArgumentException("LoRA update " + u.outputRows() + "x" + u.inputDim() + " at row " + u.rowOffset()
                        + " does not fit a projection of " + base.outputDim() + "x" + base.inputDim());
            }
            a[i] = new ArrayFloatTensor(u.a());
            float[] sb = u.b().clone();
            for (int j = 0; j < sb.length; j++) sb[j] *= u.scale();
            scaledB[i] = new ArrayFloatTensor(sb);
        }
    }

    /** A decorator that wraps the projections named in {@code updates} (GGUF tensor names) and leaves the others. */
    public static ProjectionDecorator decorator(java.util.Map<String, List<LoraUpdate>> updates) {
        return (name, p) -> {
            List<LoraUpdate> u = updates.get(name);
            return u == null || u.isEmpty() ? p : new LoraProjection(p, u);
        };
    }

    public Projection base() {
        return base;
    }

    public List<LoraUpdate> updates() {
        return updates;
    }

    @Override
    public int inputDim() {
        return base.inputDim();
    }

    @Override
    public int outputDim() {
        return base.outputDim();
    }

    @Override
    public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
        base.apply(x, xOff, out, outOff, n);
        int in = base.inputDim(), outDim = base.outputDim();
        for (int i = 0; i < a.length; i++) {
            LoraUpdate u = updates.get(i);
            int r = u.rank(), rows = u.outputRows();
            float[] ax = new float[n * r];
            Parallel.matmul(a[i], x, xOff, in, ax, 0, r, n);
            float[] bax = new float[n * rows];
            Parallel.matmul(scaledB[i], ax, 0, r, bax, 0, rows, n);
            for (int t = 0; t < n; t++) {
                int dst = outOff + t * outDim + u.rowOffset();
                for (int o = 0; o < rows; o++) out[dst + o] += bax[t * rows + o];
            }
        }
    }
}
