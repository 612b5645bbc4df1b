package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one forward pass for every {@link Architecture}: pre-norm decoder blocks with RMSNorm, rotary
 * attention (full or partial, NORMAL or NEOX pairing, GQA), optional q/k/v bias, split or fused q/k/v and
 * gate/up projections, optional post-attention/post-MLP norms, and a SwiGLU MLP (HF modeling_llama.py,
 * modeling_qwen2.py; llama.cpp llm_build_llama / llm_build_qwen2). A chunk of tokens is processed layer by
 * layer as matrix-matrix products, so each weight row is read once per chunk; decoding is a chunk of one.
 * {@link #forwardBatch} runs rows of several sequences as one chunk: the projections and the MLP are the same
 * matrix-matrix products, only rotary positions, the KV cache written and attention differ per row.
 */
public final class TransformerModel implements LanguageModel {
    /** Largest number of tokens processed together; bounds scratch memory. */
    public static final int MAX_BATCH = 64;

    private final ModelConfig config;
    private final WeightSource weights;
    private final Tokenizer tokenizer;
    private final String chatTemplate;
    private final Path origin;

    private final FloatTensor tokenEmbd;
    private final ProjectionDecorator decorator;
    private final Projection output;
    private final float[] outputNorm;
    private final Layer[] layers;
    private final double[] invFreq;
    /** cos/sin scale of the rope (YaRN's attention factor, 1 otherwise). */
    private final float ropeMscale;
    /** Element types of the KV caches {@link #newState(int)} makes. */
    private volatile KvCacheTypes kvCacheTypes = KvCacheTypes.DEFAULT;
    /** Scratch for {@link #forwardBatch}, reused between calls (guarded by its own monitor). */
    private final Object batchLock = new Object();
    private BatchScratch batchScratch;

    /**
     * Which sequence each row of a chunk belongs to and at which position. {@code owners == null} means the
     * plain single-sequence chunk: every row belongs to the scratch state, at its position onwards.
     */
    private record RowMap(InferenceState[] owners, int[] positions) {
        static final RowMap SINGLE = new RowMap(null, null);

        InferenceState owner(InferenceState buf, int t) {
            return owners == null ? buf : owners[t];
        }

        int position(InferenceState buf, int t) {
            return owners == null ? buf.position() + t : positions[t];
        }
    }

    /** Buffers of a batched forward: activations for MAX_BATCH rows, the row map, logits of the rows that need them. */
    private record BatchScratch(InferenceState rows, InferenceState[] owners, int[] positions, int[] tokens,
                                int[] lastRowEntry, float[] logits) {
    }

    /** One block's weights; null fields are absent in this architecture (a routed layer has {@code moe}, no gate/up/down). */
    private record Layer(float[] attnNorm, Projection wq, Projection wk, Projection wv, Projection wqkv,
                         float[] bq, float[] bk, float[] bv, float[] bqkv, float[] qNorm, float[] kNorm, Projection wo,
                         float[] attnPostNorm, float[] ffnNorm, Projection gate, Projection up, Projection down,
                         MoeFeedForward moe, float[] ffnPostNorm) {
    }

    /** Sees each row's expert selection of each routed layer (null: nobody). */
    private volatile ExpertRoutingObserver routingObserver;

    /**
     * Binds the weights, checking every tensor the configuration needs is present with the right shape.
     *
     * @param origin the file or directory the weights came from, for error messages (may be null)
     */
    public TransformerModel(ModelConfig config, WeightSource weights, Tokenizer tokenizer, String chatTemplate, Path origin) {
        this(config, weights, tokenizer, chatTemplate, origin, ProjectionDecorator.NONE);
    }

    /**
     * As {@link #TransformerModel(ModelConfig, WeightSource, Tokenizer, String, Path)}, with every projection
     * (q/k/v/o, gate/up/down, output) passed through {@code decorator} once bound (LoRA at load time, calibration).
     */
    public TransformerModel(ModelConfig config, WeightSource weights, Tokenizer tokenizer, String chatTemplate, Path origin,
                            ProjectionDecorator decorator) {
        this.config = config;
        this.decorator = decorator;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.origin = origin != null ? origin : Path.of("(in-memory weights)");
        config.validate(this.origin);
        Architecture arch = config.architecture();
        int dim = config.dim(), qDim = config.qDim(), kvDim = config.kvDim(), ffn = config.ffnDim();

        tokenEmbd = matrix(TensorRole.TOKEN_EMBD.tensorName(), dim, config.vocabSize());
        FloatTensor out = weights.tensor(TensorRole.OUTPUT.tensorName());
        // Tied embeddings (Llama 3.2 1B/3B, small Qwen2): llama.cpp falls back to token_embd when output is absent.
        output = out == null
                ? decorator.decorate(TensorRole.OUTPUT.tensorName(), new DenseProjection(tokenEmbd, dim, config.vocabSize()))
                : projection(TensorRole.OUTPUT.tensorName(), dim, config.vocabSize());
        if (out == null && !config.tiedEmbeddings()) {
            throw new ModelFormatException(this.origin, "missing tensor output.weight (and embeddings are not tied)");
        }
        outputNorm = vector(TensorRole.OUTPUT_NORM.tensorName(), dim, true);

        layers = new Layer[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            // The per-layer tensor set is the architecture row's (Architecture.layerTensors); fused q|k|v when the file has it.
            boolean fusedQkv = arch.fusedQkv() && weights.tensor(TensorRole.ATTN_QKV.tensorName(l)) != null;
            Map<TensorRole, Projection> p = new EnumMap<>(TensorRole.class);
            Map<TensorRole, float[]> v = new EnumMap<>(TensorRole.class);
            Map<TensorRole, FloatTensor[]> experts = new EnumMap<>(TensorRole.class);
            for (Architecture.LayerTensor t : arch.layerTensors(config, fusedQkv, l)) {
                String name = t.role().tensorName(l);
                if (t.vector()) v.put(t.role(), vector(name, t.out(), true));
                else if (t.stacked()) experts.put(t.role(), experts(name, t.in(), t.out(), t.experts()));
                else p.put(t.role(), projection(name, t.in(), t.out()));
            }
            MoeFeedForward moe = experts.isEmpty() ? null : new MoeFeedForward(l, config.moe(), dim,
                    p.get(TensorRole.FFN_GATE_INP), v.get(TensorRole.FFN_EXP_PROBS_B), experts.get(TensorRole.FFN_GATE_EXPS),
                    experts.get(TensorRole.FFN_UP_EXPS), experts.get(TensorRole.FFN_DOWN_EXPS), p.get(TensorRole.FFN_GATE_SHEXP),
                    p.get(TensorRole.FFN_UP_SHEXP), p.get(TensorRole.FFN_DOWN_SHEXP));
            // the MLP's input norm is ffn_norm, or glm4moe's post_attention_norm (Architecture.ffnNorm)
            float[] ffnNorm = v.get(arch.ffnNorm());
            float[] attnPostNorm = arch.ffnNorm() == TensorRole.ATTN_POST_NORM ? null : v.get(TensorRole.ATTN_POST_NORM);
            layers[l] = new Layer(
                    v.get(TensorRole.ATTN_NORM), p.get(TensorRole.ATTN_Q), p.get(TensorRole.ATTN_K), p.get(TensorRole.ATTN_V),
                    p.get(TensorRole.ATTN_QKV), v.get(TensorRole.ATTN_Q_BIAS), v.get(TensorRole.ATTN_K_BIAS),
                    v.get(TensorRole.ATTN_V_BIAS), v.get(TensorRole.ATTN_QKV_BIAS), v.get(TensorRole.ATTN_Q_NORM),
                    v.get(TensorRole.ATTN_K_NORM), p.get(TensorRole.ATTN_OUT),
                    attnPostNorm, ffnNorm, p.get(TensorRole.FFN_GATE),
                    p.get(TensorRole.FFN_UP), p.get(TensorRole.FFN_DOWN), moe, v.get(TensorRole.FFN_POST_NORM));
        }
        invFreq = config.ropeInvFreq();
        ropeMscale = (float) config.ropeAttentionFactor();
    }

    /**
     * The projection stored as tensor {@code name} ({@code rows} outputs of {@code rowLength} inputs), decorated. When
     * the dense tensor is absent but its two low-rank factors are present ({@link LowRankProjection#factorA}), it is the
     * product of the factors; decorators see it under the dense name either way.
     */
    private Projection projection(String name, int rowLength, int rows) {
        String a = LowRankProjection.factorA(name), b = LowRankProjection.factorB(name);
        if (weights.tensor(name) == null && weights.tensor(a) != null && weights.tensor(b) != null) {
            long[] shape = weights.shape(a);
            int rank = shape != null && shape.length == 2 && shape[1] > 0 && shape[1] <= Math.min(rowLength, rows) ? (int) shape[1] : -1;
            if (rank < 0) {
                throw new ModelFormatException(origin, "tensor " + a + " has shape " + Arrays.toString(shape) + ", expected ["
                        + rowLength + ", r] with 0 < r <= " + Math.min(rowLength, rows));
            }
            Projection lowRank = new LowRankProjection(new DenseProjection(matrix(a, rowLength, rank), rowLength, rank),
                    new DenseProjection(matrix(b, rank, rows), rank, rows));
            return decorator.decorate(name, lowRank);
        }
        return decorator.decorate(name, new DenseProjection(matrix(name, rowLength, rows), rowLength, rows));
    }

    /**
     * The experts of stacked tensor {@code name} ({@code experts} matrices of {@code rows} rows of {@code rowLength}):
     * one view per expert over only its bytes ({@link WeightSource#expert}); nothing is read here.
     */
    private FloatTensor[] experts(String name, int rowLength, int rows, int experts) {
        FloatTensor t = weights.tensor(name);
        if (t == null) throw new ModelFormatException(origin, "missing tensor " + name);
        long[] shape = weights.shape(name);
        if (shape == null || shape.length != 3 || shape[0] != rowLength || shape[1] != rows || shape[2] != experts) {
            throw new ModelFormatException(origin, "tensor " + name + " has shape " + Arrays.toString(shape)
                    + ", expected [" + rowLength + ", " + rows + ", " + experts + "]");
        }
        if (rowLength % t.type().blockSize != 0) {
            throw new ModelFormatException(origin, "tensor " + name + " rows of " + rowLength + " are not a multiple of the "
                    + t.type() + " block size " + t.type().blockSize);
        }
        FloatTensor[] out = new FloatTensor[experts];
        for (int e = 0; e < experts; e++) {
            out[e] = weights.expert(name, e);
            if (out[e] == null || out[e].size() != (long) rowLength * rows) {
                throw new ModelFormatException(origin, "expert " + e + " of " + name + " does not hold " + rowLength + " x " + rows + " elements");
            }
        }
        return out;
    }

    /**
     * Bytes of the mixture-of-experts buffers one thread running a forward pass of up to {@code rows} rows grows (0 for
     * a dense model), for the memory model.
     */
    public static long moeScratchBytes(ModelConfig c, int rows) {
        return c.moe() == null ? 0 : MoeFeedForward.scratchBytes(c.moe(), c.dim(), rows);
    }

    /**
     * Has {@code observer} see each row's selected experts and their weights in every routed layer (statistics,
     * tests); null stops it. Only mixture-of-experts models route.
     */
    public void observeRouting(ExpertRoutingObserver observer) {
        this.routingObserver = observer;
    }

    private FloatTensor matrix(String name, int rowLength, int rows) {
        FloatTensor t = weights.tensor(name);
        if (t == null) throw new ModelFormatException(origin, "missing tensor " + name);
        long[] shape = weights.shape(name);
        if (shape == null || shape.length != 2 || shape[0] != rowLength || shape[1] != rows) {
            throw new ModelFormatException(origin, "tensor " + name + " has shape " + Arrays.toString(shape)
                    + ", expected [" + rowLength + ", " + rows + "]");
        }
        if (t.size() != (long) rowLength * rows) {
            throw new ModelFormatException(origin, "tensor " + name + " holds " + t.size() + " elements, its shape says " + (long) rowLength * rows);
        }
        if (rowLength % t.type().blockSize != 0) {
            throw new ModelFormatException(origin, "tensor " + name + " rows of " + rowLength + " are not a multiple of the "
                    + t.type() + " block size " + t.type().blockSize);
        }
        return t;
    }

    /** A small 1-D tensor (norm weight, bias), copied to the heap once. */
    private float[] vector(String name, int length, boolean required) {
        FloatTensor t = weights.tensor(name);
        if (t == null) {
            if (required) throw new ModelFormatException(origin, "missing tensor " + name);
            return null;
        }
        long[] shape = weights.shape(name);
        if (shape == null || shape.length != 1 || shape[0] != length || t.size() != length) {
            throw new ModelFormatException(origin, "tensor " + name + " has shape " + Arrays.toString(shape) + ", expected [" + length + "]");
        }
        float[] v = new float[length];
        t.copyTo(0, v, 0, length);
        return v;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** The weights this model reads (GGUF naming). */
    public WeightSource weights() {
        return weights;
    }

    @Override
    public InferenceState newState(int maxTokens) {
        return newState(maxTokens, kvCacheTypes);
    }

    /** A state whose KV cache stores keys and values in {@code types} (the eval of KV quantization compares two). */
    public InferenceState newState(int maxTokens, KvCacheTypes types) {
        if (maxTokens <= 0) throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        if (maxTokens > config.contextLength()) throw new ContextOverflowException(0, maxTokens, config.contextLength());
        return new InferenceState(config, maxTokens, Math.min(maxTokens, MAX_BATCH), types);
    }

    /** The KV cache types of the states {@link #newState(int)} makes from now on (--cache-type-k/--cache-type-v). */
    public void setKvCacheTypes(KvCacheTypes types) {
        types.check(config);
        this.kvCacheTypes = types;
    }

    public KvCacheTypes kvCacheTypes() {
        return kvCacheTypes;
    }

    @Override
    public float[] forward(InferenceState s, int[] tokens, int start, int count, boolean allLogits) {
        if (s.config != config) throw new IllegalArgumentException("state belongs to another model");
        if (start < 0 || count < 0 || start > tokens.length - count) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + start + "+" + count + ") of " + tokens.length);
        }
        if (count == 0) {
            if (allLogits) return new float[0];
            throw new IllegalArgumentException("no tokens to run");
        }
        if ((long) s.position() + count > s.capacity()) {
            throw new ContextOverflowException(s.position(), count, s.capacity());
        }
        for (int i = start; i < start + count; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary of " + config.vocabSize());
            }
        }
        int vocab = config.vocabSize();
        float[] all = allLogits ? new float[Math.multiplyExact(count, vocab)] : null;
        for (int done = 0; done < count; ) {
            int n = Math.min(s.batch, count - done);
            boolean last = done + n == count;
            runChunk(s, tokens, start + done, n, RowMap.SINGLE);
            if (allLogits) {
                logits(s, 0, n, all, done * vocab);
            } else if (last) {
                logits(s, n - 1, 1, s.logits, 0);
            }
            s.advance(n);
            done += n;
        }
        return allLogits ? all : s.logits;
    }

    @Override
    public float[][] forwardBatch(List<BatchEntry> entries) {
        IdentityHashMap<InferenceState, Boolean> seen = new IdentityHashMap<>();
        long rows = 0;
        for (BatchEntry e : entries) {
            InferenceState s = e.state();
            if (s.config != config) throw new IllegalArgumentException("state belongs to another model");
            if (seen.put(s, Boolean.TRUE) != null) throw new IllegalArgumentException("the same state appears twice in a batch");
            if ((long) s.position() + e.count() > s.capacity()) throw new ContextOverflowException(s.position(), e.count(), s.capacity());
            for (int i = e.start(); i < e.start() + e.count(); i++) {
                if (e.tokens()[i] < 0 || e.tokens()[i] >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + e.tokens()[i] + " is outside the vocabulary of " + config.vocabSize());
                }
            }
            rows += e.count();
        }
        float[][] out = new float[entries.size()][];
        if (rows == 0) return out;
        synchronized (batchLock) {
            if (batchScratch == null) {
                batchScratch = new BatchScratch(new InferenceState(config, MAX_BATCH, MAX_BATCH), new InferenceState[MAX_BATCH],
                        new int[MAX_BATCH], new int[MAX_BATCH], new int[MAX_BATCH], new float[Math.multiplyExact(MAX_BATCH, config.vocabSize())]);
            }
            BatchScratch b = batchScratch;
            // Chunks of up to MAX_BATCH rows in entry order; an entry may span chunks (its earlier rows reach the
            // KV cache first). Logits are computed only for each entry's last row.
            int n = 0;
            for (int ei = 0; ei < entries.size(); ei++) {
                BatchEntry e = entries.get(ei);
                int pos = e.state().position();
                for (int i = 0; i < e.count(); i++) {
                    b.owners[n] = e.state();
                    b.positions[n] = pos + i;
                    b.tokens[n] = e.tokens()[e.start() + i];
                    b.lastRowEntry[n] = i == e.count() - 1 ? ei : -1;
                    if (++n == MAX_BATCH) {
                        runBatchChunk(b, n, entries, out);
                        n = 0;
                    }
                }
            }
            if (n > 0) runBatchChunk(b, n, entries, out);
            Arrays.fill(b.owners, null); // keep no finished sequence reachable
        }
        for (BatchEntry e : entries) e.state().advance(e.count());
        return out;
    }

    /** Runs {@code n} mapped rows, then the output projection of the rows that end an entry, as one matmul. */
    private void runBatchChunk(BatchScratch b, int n, List<BatchEntry> entries, float[][] out) {
        int vocab = config.vocabSize(), dim = config.dim();
        InferenceState buf = b.rows;
        runChunk(buf, b.tokens, 0, n, new RowMap(b.owners, b.positions));
        int wanted = 0;
        for (int t = 0; t < n; t++) {
            if (b.lastRowEntry[t] >= 0) rmsnorm(buf.xb, wanted++ * dim, buf.x, t * dim, outputNorm, dim);
        }
        if (wanted == 0) return;
        output.apply(buf.xb, 0, b.logits, 0, wanted);
        int r = 0;
        for (int t = 0; t < n; t++) {
            if (b.lastRowEntry[t] < 0) continue;
            InferenceState owner = entries.get(b.lastRowEntry[t]).state();
            System.arraycopy(b.logits, r++ * vocab, owner.logits, 0, vocab);
            out[b.lastRowEntry[t]] = owner.logits;
        }
    }

    /** Final norm and output projection of chunk rows {@code [from, from+n)} into {@code out[outOff..]}. */
    private void logits(InferenceState s, int from, int n, float[] out, int outOff) {
        int dim = config.dim();
        for (int t = from; t < from + n; t++) rmsnorm(s.xb, t * dim, s.x, t * dim, outputNorm, dim);
        output.apply(s.xb, from * dim, out, outOff, n);
    }

    /**
     * All layers for {@code n} tokens, row t in sequence {@code rows.owner(t)} at position {@code rows.position(t)},
     * in {@code s}'s scratch buffers; leaves the residual stream in {@code s.x}.
     */
    private void runChunk(InferenceState s, int[] tokens, int start, int n, RowMap rows) {
        ModelConfig c = config;
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), hd = c.headDim();

        for (int t = 0; t < n; t++) tokenEmbd.copyTo((long) tokens[start + t] * dim, s.x, t * dim, dim);
        ropeTables(s, n, rows);

        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            // ---- attention
            for (int t = 0; t < n; t++) rmsnorm(s.xb, t * dim, s.x, t * dim, w.attnNorm, dim);
            if (w.wqkv != null) {
                int width = qDim + 2 * kvDim;
                w.wqkv.apply(s.xb, 0, s.qkv, 0, n);
                for (int t = 0; t < n; t++) {
                    int row = t * width;
                    if (w.bqkv != null) addInPlace(s.qkv, row, w.bqkv, width);
                    System.arraycopy(s.qkv, row, s.q, t * qDim, qDim);
                    System.arraycopy(s.qkv, row + qDim, s.k, t * kvDim, kvDim);
                    System.arraycopy(s.qkv, row + qDim + kvDim, s.v, t * kvDim, kvDim);
                }
            } else {
                w.wq.apply(s.xb, 0, s.q, 0, n);
                w.wk.apply(s.xb, 0, s.k, 0, n);
                w.wv.apply(s.xb, 0, s.v, 0, n);
                if (w.bq != null) {
                    for (int t = 0; t < n; t++) {
                        addInPlace(s.q, t * qDim, w.bq, qDim);
                        addInPlace(s.k, t * kvDim, w.bk, kvDim);
                        addInPlace(s.v, t * kvDim, w.bv, kvDim);
                    }
                }
            }
            if (w.qNorm != null) {
                // Qwen3 / GLM-4.5 q_norm, k_norm: RMSNorm over each head's head_dim values, before rope
                for (int t = 0; t < n; t++) {
                    for (int h = 0; h < c.heads(); h++) rmsnorm(s.q, t * qDim + h * hd, s.q, t * qDim + h * hd, w.qNorm, hd);
                    for (int h = 0; h < c.kvHeads(); h++) rmsnorm(s.k, t * kvDim + h * hd, s.k, t * kvDim + h * hd, w.kNorm, hd);
                }
            }
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < c.heads(); h++) rope(s, t, s.q, t * qDim + h * hd);
                for (int h = 0; h < c.kvHeads(); h++) rope(s, t, s.k, t * kvDim + h * hd);
            }
            // Every row's K/V reaches its sequence's cache before attention, so a row sees the earlier rows of its own sequence.
            for (int t = 0; t < n; t++) {
                rows.owner(s, t).cache.store(l, rows.position(s, t), s.k, t * kvDim, s.v, t * kvDim);
            }
            attention(s, l, n, rows);
            w.wo.apply(s.att, 0, s.xb, 0, n);
            if (w.attnPostNorm != null) {
                for (int t = 0; t < n; t++) rmsnorm(s.xb, t * dim, s.xb, t * dim, w.attnPostNorm, dim);
            }
            addInPlace(s.x, 0, s.xb, 0, n * dim);

            // ---- MLP: down(silu(gate(x)) * up(x))
            for (int t = 0; t < n; t++) rmsnorm(s.xb, t * dim, s.x, t * dim, w.ffnNorm, dim);
            if (w.moe != null) {
                // routed experts (+ shared expert) in place of the dense MLP
                w.moe.apply(s.xb, s.xb2, n, routingObserver);
                System.arraycopy(s.xb2, 0, s.xb, 0, n * dim);
            } else if (w.gate == null) {
                // Fused rows: gate then up (llama.cpp LLM_FFN_SWIGLU splits ffn_up's output in halves).
                w.up.apply(s.xb, 0, s.hb2, 0, n);
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < ffn; i++) s.hb[t * ffn + i] = silu(s.hb2[t * 2 * ffn + i]) * s.hb2[t * 2 * ffn + ffn + i];
                }
            } else {
                w.gate.apply(s.xb, 0, s.hb, 0, n);
                w.up.apply(s.xb, 0, s.hb2, 0, n);
                for (int i = 0; i < n * ffn; i++) s.hb[i] = silu(s.hb[i]) * s.hb2[i];
            }
            if (w.moe == null) w.down.apply(s.hb, 0, s.xb, 0, n);
            if (w.ffnPostNorm != null) {
                for (int t = 0; t < n; t++) rmsnorm(s.xb, t * dim, s.xb, t * dim, w.ffnPostNorm, dim);
            }
            addInPlace(s.x, 0, s.xb, 0, n * dim);
        }
    }

    /** cos/sin of {@code position * invFreq[i]} for the chunk's tokens, computed in double once per chunk. */
    private void ropeTables(InferenceState s, int n, RowMap rows) {
        int half = invFreq.length;
        for (int t = 0; t < n; t++) {
            int pos = rows.position(s, t);
            for (int i = 0; i < half; i++) {
                double angle = (double) pos * invFreq[i];
                s.ropeCos[t * half + i] = (float) Math.cos(angle) * ropeMscale;
                s.ropeSin[t * half + i] = (float) Math.sin(angle) * ropeMscale;
            }
        }
    }

    /** Rotates the first rotaryDim dimensions of one head at {@code v[off..]} for chunk token {@code t}. */
    private void rope(InferenceState s, int t, float[] v, int off) {
        int half = invFreq.length;
        // NORMAL pairs (2i, 2i+1); NEOX pairs (i, i + rotaryDim/2) (HF rotate_half). Dims past rotaryDim pass through.
        int stride = config.ropeStyle() == RopeStyle.NORMAL ? 2 : 1;
        int partner = config.ropeStyle() == RopeStyle.NORMAL ? 1 : half;
        for (int i = 0; i < half; i++) {
            float cos = s.ropeCos[t * half + i], sin = s.ropeSin[t * half + i];
            int a = off + i * stride, b = a + partner;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * cos - x1 * sin;
            v[b] = x0 * sin + x1 * cos;
        }
    }

    /**
     * Causal multi-head attention of each row's query over its own sequence's cache positions
     * {@code [0, position(t)]} of layer {@code l}, parallel over query heads; query head h reads kv head
     * {@code h / (heads / kvHeads)} (GQA). Scores go to the row's sequence's buffer (a head's rows run in turn).
     */
    private void attention(InferenceState s, int l, int n, RowMap rows) {
        ModelConfig c = config;
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim(), group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        long span = 0;
        for (int t = 0; t < n; t++) span += rows.position(s, t) + 1;
        Parallel.forRange(c.heads(), span * hd * 2, (from, to) -> {
            for (int h = from; h < to; h++) {
                int kvOff = (h / group) * hd;
                for (int t = 0; t < n; t++) {
                    InferenceState owner = rows.owner(s, t);
                    CacheAttention.attendHead(owner.cache, l, rows.position(s, t) + 1, kvOff, s.q, t * qDim + h * hd, hd, scale,
                            owner.scores, h * owner.capacity(), s.vrow, h * hd, s.att, t * qDim + h * hd);
                }
            }
        });
    }

    /** RMSNorm (Zhang &amp; Sennrich 2019; HF LlamaRMSNorm): {@code out = x / sqrt(mean(x^2) + eps) * w}. */
    private void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xOff + i] * x[xOff + i];
        float r = (float) (1.0 / Math.sqrt(ss / n + config.rmsEps()));
        for (int i = 0; i < n; i++) out[outOff + i] = x[xOff + i] * r * w[i];
    }

    private static void addInPlace(float[] a, int aOff, float[] b, int n) {
        addInPlace(a, aOff, b, 0, n);
    }

    private static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) a[aOff + i] += b[bOff + i];
    }

    private static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    @Override
    public void close() {
        weights.close();
    }
}
