package ai.autoglm.train;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.train.ops.CausalAttention;
import ai.autoglm.train.ops.CrossEntropy;
import ai.autoglm.train.ops.Embedding;
import ai.autoglm.train.ops.Linear;
import ai.autoglm.train.ops.RmsNorm;
import ai.autoglm.train.ops.Rope;
import ai.autoglm.train.ops.SwiGlu;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * The decoder of {@link ai.autoglm.core.model.TransformerModel}, trainable: the same {@link ModelConfig} and
 * {@link Architecture} switches (split or fused q|k|v with optional bias, NORMAL or NEOX rotary on the first
 * {@code rotaryDim} dims of each head, GQA, split or fused gate|up SwiGLU, optional post-attention/post-MLP
 * norms, tied or separate output), over F32 heap parameters named like GGUF tensors, with a hand-derived
 * backward pass: each op's forward keeps what its backward needs, and {@link #forwardBackward} runs the ops'
 * backward functions (package {@code ops}, each citing its derivation) in reverse order.
 *
 * <p>A batch is {@code n = sequences * seqLen} token rows; matmuls run over all rows at once (each weight row is
 * read once per tile of tokens), attention within each sequence.
 */
public final class TrainableTransformer {
    private final ModelConfig config;
    private final ParameterSet params;
    private final Parameter tokenEmbd;
    private final Parameter output;
    private final Parameter outputNorm;
    private final LayerParams[] layers;
    private final Rope rope;
    private final CausalAttention attention;
    private Activations act;
    /** Replaces matrix values in the forward pass (fake quantization); null = the parameters as they are. */
    private WeightTransform weightTransform;
    /** The transformed values of each parameter the transform applies to, refreshed at the start of every forward. */
    private final java.util.IdentityHashMap<Parameter, float[]> transformed = new java.util.IdentityHashMap<>();

    /** One block's parameters; null when the architecture does not have it. */
    private record LayerParams(Parameter attnNorm, Parameter wq, Parameter wk, Parameter wv, Parameter wqkv,
                               Parameter bq, Parameter bk, Parameter bv, Parameter bqkv, Parameter wo,
                               Parameter attnPostNorm, Parameter ffnNorm, Parameter gate, Parameter up,
                               Parameter down, Parameter ffnPostNorm) {
    }

    private final boolean fusedQkv;
    private final java.util.Map<String, ProjectionHook> hooks = new java.util.HashMap<>();
    private boolean baseFrozen;

    /**
     * A trainable addition to one projection (a LoRA update): its forward adds to the projection's output rows, its
     * backward adds its input gradient to {@code dx} and accumulates its own parameters' gradients.
     */
    public interface ProjectionHook {
        /** {@code y += f(x)} for {@code n} rows of {@code x}. */
        void forward(float[] x, int n, float[] y);

        /** {@code dx += df/dx^T dy} and the hook's own gradients, for the {@code x} of the last forward. */
        void backward(float[] dy, float[] x, int n, float[] dx);
    }

    /** As {@link #TrainableTransformer(ModelConfig, boolean)} with q|k|v fused when the architecture allows it. */
    public TrainableTransformer(ModelConfig config) {
        this(config, config.architecture().fusedQkv());
    }

    /**
     * A model with zero weights and unit norms; {@link #initialize} draws the random weights.
     *
     * @param fusedQkv one {@code attn_qkv} projection (ChatGLM's {@code query_key_value}) instead of q, k, v; only for
     *                 architectures that allow it. The transformers-native GLM classes (GlmForCausalLM,
     *                 Glm4ForCausalLM) keep q/k/v split, as does the inference engine when the weights are split.
     */
    public TrainableTransformer(ModelConfig config, boolean fusedQkv) {
        if (fusedQkv && !config.architecture().fusedQkv()) throw new IllegalArgumentException(config.architecture() + " has no fused q|k|v projection");
        // The gradients here cover the dense decoder block; routed experts and per-head q/k norms have no backward pass yet.
        if (config.moe() != null) throw new UnsupportedOperationException("training is not supported for mixture-of-experts models (" + config.architecture() + ")");
        if (config.qkNorm()) throw new UnsupportedOperationException("training is not supported for models with q/k norms (" + config.architecture() + ")");
        this.config = config;
        this.fusedQkv = fusedQkv;
        this.params = new ParameterSet();
        Architecture arch = config.architecture();
        int dim = config.dim(), qDim = config.qDim(), kvDim = config.kvDim(), ffn = config.ffnDim(), vocab = config.vocabSize();
        // Weight decay on the projection matrices only; none on embeddings, norms and biases (nanoGPT
        // configure_optimizers and most LLM recipes exclude 1-D tensors; we exclude the embedding too).
        tokenEmbd = params.add(new Parameter(TensorRole.TOKEN_EMBD.tensorName(), new long[]{dim, vocab}, false));
        layers = new LayerParams[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            // The per-layer tensor set is the architecture row's (Architecture.layerTensors), as the engine loads it.
            Map<TensorRole, Parameter> p = new EnumMap<>(TensorRole.class);
            for (Architecture.LayerTensor t : arch.layerTensors(config, fusedQkv)) {
                String name = t.role().tensorName(l);
                boolean bias = t.role().suffix().equals(".bias"); // the other vectors are norms
                p.put(t.role(), !t.vector() ? matrix(name, t.in(), t.out()) : bias ? bias(name, t.out()) : norm(name, t.out()));
            }
            layers[l] = new LayerParams(p.get(TensorRole.ATTN_NORM), p.get(TensorRole.ATTN_Q), p.get(TensorRole.ATTN_K),
                    p.get(TensorRole.ATTN_V), p.get(TensorRole.ATTN_QKV), p.get(TensorRole.ATTN_Q_BIAS),
                    p.get(TensorRole.ATTN_K_BIAS), p.get(TensorRole.ATTN_V_BIAS), p.get(TensorRole.ATTN_QKV_BIAS),
                    p.get(TensorRole.ATTN_OUT), p.get(TensorRole.ATTN_POST_NORM), p.get(TensorRole.FFN_NORM),
                    p.get(TensorRole.FFN_GATE), p.get(TensorRole.FFN_UP), p.get(TensorRole.FFN_DOWN),
                    p.get(TensorRole.FFN_POST_NORM));
        }
        outputNorm = norm(TensorRole.OUTPUT_NORM.tensorName(), dim);
        output = config.tiedEmbeddings() ? tokenEmbd : matrix(TensorRole.OUTPUT.tensorName(), dim, vocab);
        rope = new Rope(config.ropeStyle(), config.headDim(), config.ropeInvFreq(), config.contextLength());
        attention = new CausalAttention(config.heads(), config.kvHeads(), config.headDim());
    }

    private Parameter matrix(String name, int rowLength, int rows) {
        return params.add(new Parameter(name, new long[]{rowLength, rows}, true));
    }

    private Parameter bias(String name, int n) {
        return params.add(new Parameter(name, new long[]{n}, false));
    }

    private Parameter norm(String name, int n) {
        Parameter p = params.add(new Parameter(name, new long[]{n}, false));
        Arrays.fill(p.value(), 1f);
        return p;
    }

    /**
     * GPT-2 initialization (Radford et al. 2019, section 2.3; nanoGPT {@code _init_weights}): matrices and the
     * embedding N(0, 0.02), the projections that write into the residual stream (attention output, MLP down)
     * scaled by {@code 1/sqrt(2 * layers)}; biases zero, norms one.
     */
    public TrainableTransformer initialize(SplitMix64 rng) {
        double std = 0.02, residualStd = std / Math.sqrt(2.0 * config.layers());
        for (Parameter p : params.all()) {
            if (p.shape().length != 2) continue;
            boolean residual = p.name().endsWith(".attn_output.weight") || p.name().endsWith(".ffn_down.weight");
            double s = residual ? residualStd : std;
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * s);
        }
        return this;
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Adds {@code hook} to the projection stored as {@code tensorName} (a per-block matrix: {@code blk.N.attn_q.weight},
     * {@code ...attn_qkv}, {@code attn_output}, {@code ffn_gate}, {@code ffn_up}, {@code ffn_down}).
     */
    public void addHook(String tensorName, ProjectionHook hook) {
        Parameter p = params.get(tensorName);
        if (p == null || p.shape().length != 2 || !tensorName.startsWith("blk.")) {
            throw new IllegalArgumentException("no block projection named " + tensorName);
        }
        if (hooks.putIfAbsent(tensorName, hook) != null) throw new IllegalArgumentException(tensorName + " already has a hook");
    }

    /**
     * With {@code frozen}, {@link #forwardBackward} computes no gradient for the model's own weight matrices and biases
     * (only what flows to the inputs and to the hooks): the backward of a frozen base costs one matmul per projection
     * instead of two. Norm and embedding gradients are still accumulated (they are cheap); an optimizer over the
     * hooks' parameters alone never reads them.
     */
    public void freezeBase(boolean frozen) {
        this.baseFrozen = frozen;
    }

    /** {@code y = x W^T + b}, plus the projection's hook. */
    private void project(float[] x, int n, int in, Parameter w, Parameter b, int out, float[] y) {
        Linear.forward(x, n, in, v(w), b == null ? null : v(b), out, y);
        ProjectionHook h = hooks.get(w.name());
        if (h != null) h.forward(x, n, y);
    }

    /** The backward of {@link #project}: {@code dx +=}, and the weight gradients unless the base is frozen. */
    private void projectBackward(float[] dy, float[] x, int n, int in, Parameter w, Parameter b, int out, float[] dx) {
        Linear.backward(dy, x, n, in, v(w), out, dx, baseFrozen ? null : w.grad(), baseFrozen || b == null ? null : b.grad());
        ProjectionHook h = hooks.get(w.name());
        if (h != null) h.backward(dy, x, n, dx);
    }

    /** Whether q, k, v are one fused projection. */
    public boolean fusedQkv() {
        return fusedQkv;
    }

    public ParameterSet parameters() {
        return params;
    }

    /**
     * Sets the transform applied to parameter values before each forward pass (null: none). The forward and the
     * input gradients ({@code dx = dy W}) use the transformed values; weight gradients accumulate into the parameter's
     * own {@code grad}, i.e. they pass the transform straight through (Bengio, Léonard &amp; Courville 2013, "Estimating
     * or Propagating Gradients Through Stochastic Neurons for Conditional Computation", the straight-through
     * estimator), which is what quantization-aware training needs.
     */
    public void setWeightTransform(WeightTransform transform) {
        this.weightTransform = transform;
        transformed.clear();
        if (transform == null) return;
        for (Parameter p : params.all()) {
            if (transform.appliesTo(p)) transformed.put(p, new float[p.size()]);
        }
    }

    /** The values the forward pass uses for {@code p}: transformed when a transform applies to it. */
    private float[] v(Parameter p) {
        float[] t = weightTransform == null ? null : transformed.get(p);
        return t != null ? t : p.value();
    }

    private void refreshTransformedWeights() {
        if (weightTransform == null) return;
        for (var e : transformed.entrySet()) weightTransform.apply(e.getKey(), e.getValue());
    }

    // ------------------------------------------------------------------------------------------ activations

    /**
     * Everything the backward pass reads, and the gradient scratch rows, for one batch shape; reused while the shape
     * stays the same, so a training step allocates no buffer of the batch's or the model's size.
     */
    private static final class Activations {
        final int n;
        final int seqLen;
        final float[][] xIn, hAttn, q, k, v, qkv, probs, att, o, xMid, hFfn, gu, g, m, d;
        final float[][] rAttn, rAttnPost, rFfn, rFfnPost;
        final float[] xOut, xf, rOut, logits;
        final int[] tokens;
        final double[] rowLoss;
        // scratch of the forward (residual stream, post-norm output) and of the backward pass
        final float[] x, normed, dxf, dx, dTmp, dh, dm, dgu, dg, datt, dq, dk, dv, dqkv;

        Activations(ModelConfig c, boolean fusedQkv, CausalAttention attention, int n, int seqLen) {
            this.n = n;
            this.seqLen = seqLen;
            int L = c.layers(), dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();
            boolean fusedGu = c.architecture().fusedGateUp(), post = c.architecture().postNorms();
            xIn = new float[L][n * dim];
            hAttn = new float[L][n * dim];
            q = new float[L][n * qDim];
            k = new float[L][n * kvDim];
            v = new float[L][n * kvDim];
            qkv = fusedQkv ? new float[L][n * (qDim + 2 * kvDim)] : null;
            probs = new float[L][Math.toIntExact(attention.probsSize(n, seqLen))];
            att = new float[L][n * qDim];
            o = new float[L][n * dim];
            xMid = new float[L][n * dim];
            hFfn = new float[L][n * dim];
            gu = new float[L][n * ffn * (fusedGu ? 2 : 1)]; // fused gate|up, or up alone
            g = fusedGu ? null : new float[L][n * ffn];
            m = new float[L][n * ffn];
            d = new float[L][n * dim];
            rAttn = new float[L][n];
            rAttnPost = post ? new float[L][n] : null;
            rFfn = new float[L][n];
            rFfnPost = post ? new float[L][n] : null;
            xOut = new float[n * dim];
            xf = new float[n * dim];
            rOut = new float[n];
            logits = new float[Math.multiplyExact(n, c.vocabSize())];
            tokens = new int[n];
            rowLoss = new double[n];
            x = new float[n * dim];
            normed = post ? new float[n * dim] : null;
            dxf = new float[n * dim];
            dx = new float[n * dim];
            dTmp = new float[n * dim];
            dh = new float[n * dim];
            dm = new float[n * ffn];
            dgu = new float[gu[0].length];
            dg = fusedGu ? null : new float[n * ffn];
            datt = new float[n * qDim];
            dq = new float[n * qDim];
            dk = new float[n * kvDim];
            dv = new float[n * kvDim];
            dqkv = fusedQkv ? new float[n * (qDim + 2 * kvDim)] : null;
        }
    }

    private Activations activations(int n, int seqLen) {
        if (act == null || act.n != n || act.seqLen != seqLen) {
            act = null; // let the old buffers go before allocating new ones
            act = new Activations(config, fusedQkv, attention, n, seqLen);
        }
        return act;
    }

    // ------------------------------------------------------------------------------------------ forward

    /**
     * Runs {@code tokens} ({@code tokens.length / seqLen} sequences of {@code seqLen}, each starting at position 0)
     * and returns the logits, {@code [tokens.length][vocab]} (an array reused by the next call).
     */
    public float[] forward(int[] tokens, int seqLen) {
        if (seqLen <= 0 || tokens.length == 0 || tokens.length % seqLen != 0) {
            throw new IllegalArgumentException(tokens.length + " tokens are not whole sequences of " + seqLen);
        }
        if (seqLen > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the context length " + config.contextLength());
        }
        for (int t : tokens) {
            if (t < 0 || t >= config.vocabSize()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary of " + config.vocabSize());
        }
        ModelConfig c = config;
        int n = tokens.length, dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();
        float rmsEps = c.rmsEps();
        refreshTransformedWeights();
        Activations a = activations(n, seqLen);
        System.arraycopy(tokens, 0, a.tokens, 0, n);
        float[] x = a.x;
        Embedding.forward(v(tokenEmbd), dim, tokens, x);
        for (int l = 0; l < layers.length; l++) {
            LayerParams w = layers[l];
            System.arraycopy(x, 0, a.xIn[l], 0, x.length);
            RmsNorm.forward(x, n, dim, v(w.attnNorm), rmsEps, a.hAttn[l], a.rAttn[l]);
            if (w.wqkv != null) {
                int width = qDim + 2 * kvDim;
                project(a.hAttn[l], n, dim, w.wqkv, w.bqkv, width, a.qkv[l]);
                for (int t = 0; t < n; t++) {
                    System.arraycopy(a.qkv[l], t * width, a.q[l], t * qDim, qDim);
                    System.arraycopy(a.qkv[l], t * width + qDim, a.k[l], t * kvDim, kvDim);
                    System.arraycopy(a.qkv[l], t * width + qDim + kvDim, a.v[l], t * kvDim, kvDim);
                }
            } else {
                project(a.hAttn[l], n, dim, w.wq, w.bq, qDim, a.q[l]);
                project(a.hAttn[l], n, dim, w.wk, w.bk, kvDim, a.k[l]);
                project(a.hAttn[l], n, dim, w.wv, w.bv, kvDim, a.v[l]);
            }
            rope.forward(a.q[l], n, c.heads(), seqLen);
            rope.forward(a.k[l], n, c.kvHeads(), seqLen);
            attention.forward(a.q[l], a.k[l], a.v[l], n, seqLen, a.probs[l], a.att[l]);
            project(a.att[l], n, qDim, w.wo, null, dim, a.o[l]);
            addResidual(x, a.o[l], w.attnPostNorm, a.rAttnPost == null ? null : a.rAttnPost[l], n, dim, a.normed);
            System.arraycopy(x, 0, a.xMid[l], 0, x.length);

            RmsNorm.forward(x, n, dim, v(w.ffnNorm), rmsEps, a.hFfn[l], a.rFfn[l]);
            if (w.gate == null) {
                project(a.hFfn[l], n, dim, w.up, null, 2 * ffn, a.gu[l]);
                SwiGlu.forward(a.gu[l], 0, a.gu[l], ffn, 2 * ffn, n, ffn, a.m[l]);
            } else {
                project(a.hFfn[l], n, dim, w.gate, null, ffn, a.g[l]);
                project(a.hFfn[l], n, dim, w.up, null, ffn, a.gu[l]);
                SwiGlu.forward(a.g[l], 0, a.gu[l], 0, ffn, n, ffn, a.m[l]);
            }
            project(a.m[l], n, ffn, w.down, null, dim, a.d[l]);
            addResidual(x, a.d[l], w.ffnPostNorm, a.rFfnPost == null ? null : a.rFfnPost[l], n, dim, a.normed);
        }
        System.arraycopy(x, 0, a.xOut, 0, x.length);
        RmsNorm.forward(x, n, dim, v(outputNorm), rmsEps, a.xf, a.rOut);
        Linear.forward(a.xf, n, dim, v(output), null, c.vocabSize(), a.logits);
        return a.logits;
    }

    /** {@code x += postNorm(y)} (GLM-4-0414 post norms) or {@code x += y}; {@code y} keeps the pre-norm values. */
    private void addResidual(float[] x, float[] y, Parameter postNorm, float[] rstd, int n, int dim, float[] normed) {
        if (postNorm == null) {
            for (int i = 0; i < n * dim; i++) x[i] += y[i];
            return;
        }
        RmsNorm.forward(y, n, dim, v(postNorm), config.rmsEps(), normed, rstd);
        for (int i = 0; i < n * dim; i++) x[i] += normed[i];
    }

    /**
     * The residual stream after block {@code layer} (0-based) of the last {@link #forward}, {@code [n][dim]} (a live
     * array, overwritten by the next forward): the hidden state that distillation matches between teacher and student.
     */
    public float[] hiddenState(int layer) {
        if (act == null) throw new IllegalStateException("no forward pass has run");
        if (layer < 0 || layer >= layers.length) throw new IllegalArgumentException("layer " + layer + " is not in 0.." + (layers.length - 1));
        return layer + 1 < layers.length ? act.xIn[layer + 1] : act.xOut;
    }

    /** Mean cross-entropy of predicting {@code targets} (same layout as {@code tokens}; -1 = no target). */
    public double loss(int[] tokens, int[] targets, int seqLen) {
        float[] logits = forward(tokens, seqLen);
        return CrossEntropy.forwardBackward(logits, tokens.length, config.vocabSize(), targets, null, act.rowLoss);
    }

    // ------------------------------------------------------------------------------------------ backward

    /**
     * Forward, loss and backward: <b>adds</b> the gradient of the mean cross-entropy to every parameter's
     * {@code grad} (call {@link ParameterSet#zeroGradients} first) and returns the loss.
     */
    public double forwardBackward(int[] tokens, int[] targets, int seqLen) {
        float[] logits = forward(tokens, seqLen);
        double loss = CrossEntropy.forwardBackward(logits, tokens.length, config.vocabSize(), targets, logits, act.rowLoss); // logits now hold dlogits
        backward(logits, null);
        return loss;
    }

    /**
     * The backward pass of the last {@link #forward} for a loss of its own making: <b>adds</b> to every parameter's
     * {@code grad} the gradient of a loss whose gradient with respect to the logits is {@code dlogits}
     * ({@code [n][vocab]}; may be the array forward returned) and, when {@code hiddenGrads} is not null, with respect
     * to the residual stream after block {@code l} is {@code hiddenGrads[l]} ({@code [n][dim]} or null; see
     * {@link #hiddenState}).
     */
    public void backward(float[] dlogits, float[][] hiddenGrads) {
        Activations a = act;
        if (a == null) throw new IllegalStateException("no forward pass has run");
        if (dlogits.length != a.logits.length) throw new IllegalArgumentException("dlogits has " + dlogits.length + " values, the forward produced " + a.logits.length);
        if (hiddenGrads != null && hiddenGrads.length != layers.length) throw new IllegalArgumentException("hiddenGrads needs one entry per layer");
        ModelConfig c = config;
        int n = a.n, dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), vocab = c.vocabSize();

        float[] dxf = a.dxf, dx = a.dx, dTmp = a.dTmp, dh = a.dh, dm = a.dm, dgu = a.dgu, dg = a.dg, datt = a.datt;
        float[] dq = a.dq, dk = a.dk, dv = a.dv, dqkv = a.dqkv;
        Arrays.fill(dxf, 0f);
        Linear.backward(dlogits, a.xf, n, dim, v(output), vocab, dxf, baseFrozen ? null : output.grad(), null);
        RmsNorm.backward(dxf, a.xOut, n, dim, v(outputNorm), a.rOut, dx, outputNorm.grad());

        for (int l = layers.length - 1; l >= 0; l--) {
            LayerParams w = layers[l];
            if (hiddenGrads != null && hiddenGrads[l] != null) {
                float[] hg = hiddenGrads[l];
                for (int i = 0; i < n * dim; i++) dx[i] += hg[i];
            }
            // ---- MLP: x = xMid + post(down(swiglu(norm(xMid))))
            float[] dd = residualBranchGrad(dx, a.d[l], w.ffnPostNorm, a.rFfnPost == null ? null : a.rFfnPost[l], n, dim, dTmp);
            Arrays.fill(dm, 0f);
            projectBackward(dd, a.m[l], n, ffn, w.down, null, dim, dm);
            Arrays.fill(dh, 0f);
            if (w.gate == null) {
                SwiGlu.backward(dm, a.gu[l], 0, a.gu[l], ffn, 2 * ffn, n, ffn, dgu, dgu);
                projectBackward(dgu, a.hFfn[l], n, dim, w.up, null, 2 * ffn, dh);
            } else {
                SwiGlu.backward(dm, a.g[l], 0, a.gu[l], 0, ffn, n, ffn, dg, dgu);
                projectBackward(dg, a.hFfn[l], n, dim, w.gate, null, ffn, dh);
                projectBackward(dgu, a.hFfn[l], n, dim, w.up, null, ffn, dh);
            }
            RmsNorm.backward(dh, a.xMid[l], n, dim, v(w.ffnNorm), a.rFfn[l], dTmp, w.ffnNorm.grad());
            for (int i = 0; i < n * dim; i++) dx[i] += dTmp[i];

            // ---- attention: xMid = xIn + post(wo(attention(rope(q), rope(k), v)))
            float[] dob = residualBranchGrad(dx, a.o[l], w.attnPostNorm, a.rAttnPost == null ? null : a.rAttnPost[l], n, dim, dTmp);
            Arrays.fill(datt, 0f);
            projectBackward(dob, a.att[l], n, qDim, w.wo, null, dim, datt);
            attention.backward(datt, a.q[l], a.k[l], a.v[l], n, a.seqLen, a.probs[l], dq, dk, dv);
            rope.backward(dq, n, c.heads(), a.seqLen);
            rope.backward(dk, n, c.kvHeads(), a.seqLen);
            Arrays.fill(dh, 0f);
            if (w.wqkv != null) {
                int width = qDim + 2 * kvDim;
                for (int t = 0; t < n; t++) {
                    System.arraycopy(dq, t * qDim, dqkv, t * width, qDim);
                    System.arraycopy(dk, t * kvDim, dqkv, t * width + qDim, kvDim);
                    System.arraycopy(dv, t * kvDim, dqkv, t * width + qDim + kvDim, kvDim);
                }
                projectBackward(dqkv, a.hAttn[l], n, dim, w.wqkv, w.bqkv, width, dh);
            } else {
                projectBackward(dq, a.hAttn[l], n, dim, w.wq, w.bq, qDim, dh);
                projectBackward(dk, a.hAttn[l], n, dim, w.wk, w.bk, kvDim, dh);
                projectBackward(dv, a.hAttn[l], n, dim, w.wv, w.bv, kvDim, dh);
            }
            RmsNorm.backward(dh, a.xIn[l], n, dim, v(w.attnNorm), a.rAttn[l], dTmp, w.attnNorm.grad());
            for (int i = 0; i < n * dim; i++) dx[i] += dTmp[i];
        }
        Embedding.backward(dx, dim, a.tokens, tokenEmbd.grad());
    }

    /**
     * The gradient reaching a residual branch's output {@code y} from {@code dx}: {@code dx} itself, or through the
     * post-norm (accumulating its weight gradient) into {@code scratch}.
     */
    private float[] residualBranchGrad(float[] dx, float[] y, Parameter postNorm, float[] rstd, int n, int dim, float[] scratch) {
        if (postNorm == null) return dx;
        RmsNorm.backward(dx, y, n, dim, v(postNorm), rstd, scratch, postNorm.grad());
        return scratch;
    }
}
