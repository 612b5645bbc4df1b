package ai.autoglm.train.lora;

import ai.autoglm.train.Parameter;
import ai.autoglm.train.SplitMix64;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.ops.LoraLinear;

/**
 * The trainable LoRA matrices of one projection, hooked into a {@link TrainableTransformer}: {@code A} ({@code r}
 * rows of {@code in}) and {@code B} ({@code out} rows of {@code r}), GGUF shape order like every other parameter.
 * Initialised as PEFT does by default ({@code LoraLayer.reset_lora_parameters}, init_lora_weights=True): A with
 * {@code kaiming_uniform_(a=sqrt(5))}, which for a {@code [r, in]} weight is uniform on {@code ±1/sqrt(in)}
 * (gain {@code sqrt(2/(1+5))}, bound {@code gain*sqrt(3/in)}), and B zero, so training starts from the base model.
 */
public final class LoraLayer implements TrainableTransformer.ProjectionHook {
    private final String target;
    private final Parameter a;
    private final Parameter b;
    private final int rank;
    private final int in;
    private final int out;
    private final float scale;
    private float[] u = new float[0];

    public LoraLayer(String target, int in, int out, int rank, float scale, SplitMix64 rng) {
        this.target = target;
        this.in = in;
        this.out = out;
        this.rank = rank;
        this.scale = scale;
        // Parameter names: the target's name with PEFT's suffixes, unique per projection; no weight decay (PEFT / HF
        // Trainer default weight_decay = 0).
        String base = target.substring(0, target.length() - ".weight".length());
        this.a = new Parameter(base + ".lora_A.weight", new long[]{in, rank}, false);
        this.b = new Parameter(base + ".lora_B.weight", new long[]{rank, out}, false);
        double bound = 1 / Math.sqrt(in);
        float[] av = a.value();
        for (int i = 0; i < av.length; i++) av[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }

    public String target() {
        return target;
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    public int rank() {
        return rank;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        if (u.length != n * rank) u = new float[n * rank];
        LoraLinear.forward(x, n, in, a.value(), b.value(), rank, out, scale, u, y);
    }

    @Override
    public void backward(float[] dy, float[] x, int n, float[] dx) {
        LoraLinear.backward(dy, x, u, n, in, a.value(), b.value(), rank, out, scale, dx, a.grad(), b.grad());
    }
}
