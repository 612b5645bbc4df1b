package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static ai.autoglm.core.model.encoder.BertTensorNames.*;

/**
 * The BERT encoder (Devlin et al. 2019; transformers modeling_bert.py BertModel, llama.cpp llm_build_bert): token +
 * absolute position + token-type embeddings, LayerNorm, then per layer post-LayerNorm blocks
 * {@code x = LN(x + Attn(x)); x = LN(x + W2 gelu(W1 x))} with biases everywhere, bidirectional multi-head attention,
 * and the exact (erf) GELU of HF's {@code "gelu"} activation. Token type ids are all 0 (single-sentence inputs).
 *
 * <p>Batches are packed rather than padded: the linear layers run over the tokens of all sequences at once, and
 * attention stays inside each sequence. That is what HF computes for a padded batch with an {@code attention_mask}
 * (padding keys get -inf scores, padding rows are discarded), without the work on padding.
 *
 * <p>Weights are read by GGUF name ({@link BertTensorNames}) in GGUF order (a matrix is {@code [out][in]}, row-major),
 * so one forward pass serves ONNX, HF safetensors and GGUF checkpoints.
 */
public final class BertEncoder {
    private final BertConfig cfg;
    private final FloatTensor tokenEmbd;
    private final FloatTensor positionEmbd;
    private final float[] typeZero;
    private final float[] embNormW;
    private final float[] embNormB;
    private final Layer[] layers;

    private record Linear(FloatTensor w, float[] b, int in, int out) {
    }

    private record Layer(Linear q, Linear k, Linear v, Linear o, float[] attnNormW, float[] attnNormB,
                         Linear up, Linear down, float[] outNormW, float[] outNormB) {
    }

    /** @throws ModelFormatException naming {@code file} when a tensor is missing or has the wrong shape */
    public BertEncoder(BertConfig cfg, WeightSource w, Path file) {
        this(cfg, w, file, null);
    }

    /**
     * As {@link #BertEncoder(BertConfig, WeightSource, Path)}, with the six projection matrices of every layer (q, k,
     * v, attention output, FFN up and down) converted in memory to {@code projectionType} by core's {@link Quantizer}
     * (ggml's reference quantizers) when their rows are whole blocks of that type; {@code null} keeps them as stored.
     * Embedding tables, norms and biases stay as stored, as llama.cpp keeps norms and biases (1-D) unquantized. This
     * is how quantization quality is measured on real encoders against ONNX Runtime (EncoderQuantizationTest).
     */
    public BertEncoder(BertConfig cfg, WeightSource w, Path file, GgmlType projectionType) {
        this.cfg = cfg;
        int h = cfg.hidden();
        this.tokenEmbd = tensor(w, file, TOKEN_EMBD, h, cfg.vocabSize());
        this.positionEmbd = tensor(w, file, POSITION_EMBD, h, cfg.maxPositions());
        this.typeZero = vector(tensor(w, file, TOKEN_TYPES, h, cfg.typeVocabSize()), h);
        this.embNormW = vector(tensor(w, file, TOKEN_EMBD_NORM + ".weight", h), h);
        this.embNormB = vector(tensor(w, file, TOKEN_EMBD_NORM + ".bias", h), h);
        this.layers = new Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(
                    linear(w, projectionType, file, ATTN_Q, l, h, h), linear(w, projectionType, file, ATTN_K, l, h, h),
                    linear(w, projectionType, file, ATTN_V, l, h, h), linear(w, projectionType, file, ATTN_OUT, l, h, h),
                    vector(tensor(w, file, block(ATTN_OUT_NORM, l, ".weight"), h), h),
                    vector(tensor(w, file, block(ATTN_OUT_NORM, l, ".bias"), h), h),
                    linear(w, projectionType, file, FFN_UP, l, h, cfg.intermediate()),
                    linear(w, projectionType, file, FFN_DOWN, l, cfg.intermediate(), h),
                    vector(tensor(w, file, block(LAYER_OUT_NORM, l, ".weight"), h), h),
                    vector(tensor(w, file, block(LAYER_OUT_NORM, l, ".bias"), h), h));
        }
    }

    public BertConfig config() {
        return cfg;
    }

    /**
     * The last hidden states of each sequence: {@code result[s]} holds {@code len(s) * hidden} floats, token-major.
     * Sequences are token ids (with [CLS]/[SEP] already in place), 1 to {@code maxPositions} long.
     */
    public float[][] forward(List<int[]> sequences) {
        int h = cfg.hidden();
        int n = 0;
        int[] start = new int[sequences.size() + 1];
        for (int s = 0; s < sequences.size(); s++) {
            int[] ids = sequences.get(s);
            if (ids.length == 0 || ids.length > cfg.maxPositions()) {
                throw new IllegalArgumentException("sequence " + s + " has " + ids.length + " tokens; the encoder takes 1 to "
                        + cfg.maxPositions());
            }
            for (int id : ids) {
                if (id < 0 || id >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + cfg.vocabSize());
                }
            }
            n += ids.length;
            start[s + 1] = n;
        }
        float[] x = new float[n * h];
        float[] row = new float[h];
        for (int s = 0; s < sequences.size(); s++) {
            int[] ids = sequences.get(s);
            for (int p = 0; p < ids.length; p++) {
                int at = (start[s] + p) * h;
                tokenEmbd.copyTo((long) ids[p] * h, x, at, h);
                positionEmbd.copyTo((long) p * h, row, 0, h);
                for (int i = 0; i < h; i++) x[at + i] += row[i] + typeZero[i];
            }
        }
        layerNorm(x, n, embNormW, embNormB);

        float[] q = new float[n * h];
        float[] k = new float[n * h];
        float[] v = new float[n * h];
        float[] ctx = new float[n * h];
        float[] tmp = new float[n * h];
        float[] ff = new float[n * cfg.intermediate()];
        for (Layer layer : layers) {
            apply(layer.q, x, q, n);
            apply(layer.k, x, k, n);
            apply(layer.v, x, v, n);
            attention(q, k, v, ctx, start);
            apply(layer.o, ctx, tmp, n);
            for (int i = 0; i < x.length; i++) x[i] += tmp[i];
            layerNorm(x, n, layer.attnNormW, layer.attnNormB);
            apply(layer.up, x, ff, n);
            Parallel.forRange(ff.length, 16, (from, to) -> {
                for (int i = from; i < to; i++) ff[i] = gelu(ff[i]);
            });
            apply(layer.down, ff, tmp, n);
            for (int i = 0; i < x.length; i++) x[i] += tmp[i];
            layerNorm(x, n, layer.outNormW, layer.outNormB);
        }
        float[][] out = new float[sequences.size()][];
        for (int s = 0; s < out.length; s++) {
            out[s] = Arrays.copyOfRange(x, start[s] * h, start[s + 1] * h);
        }
        return out;
    }

    /** Scaled dot-product attention within each sequence, all heads (modeling_bert.py BertSelfAttention). */
    private void attention(float[] q, float[] k, float[] v, float[] ctx, int[] start) {
        int h = cfg.hidden();
        int heads = cfg.heads();
        int hd = cfg.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int seqs = start.length - 1;
        int maxLen = 0;
        for (int s = 0; s < seqs; s++) maxLen = Math.max(maxLen, start[s + 1] - start[s]);
        int longest = maxLen;
        Parallel.forRange(seqs * heads, (long) longest * longest * hd, (from, to) -> {
            float[] scores = new float[longest];
            for (int job = from; job < to; job++) {
                int s = job / heads;
                int head = job % heads;
                int first = start[s];
                int len = start[s + 1] - first;
                for (int i = 0; i < len; i++) {
                    int qi = (first + i) * h + head * hd;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        int kj = (first + j) * h + head * hd;
                        float dot = 0f;
                        for (int d = 0; d < hd; d++) dot += q[qi + d] * k[kj + d];
                        scores[j] = dot * scale;
                        max = Math.max(max, scores[j]);
                    }
                    float sum = 0f;
                    for (int j = 0; j < len; j++) {
                        scores[j] = (float) Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    float inv = 1f / sum;
                    Arrays.fill(ctx, qi, qi + hd, 0f);
                    for (int j = 0; j < len; j++) {
                        float p = scores[j] * inv;
                        int vj = (first + j) * h + head * hd;
                        for (int d = 0; d < hd; d++) ctx[qi + d] += p * v[vj + d];
                    }
                }
            }
        });
    }

    private static void apply(Linear lin, float[] x, float[] out, int n) {
        Parallel.matmul(lin.w, x, 0, lin.in, out, 0, lin.out, n);
        for (int t = 0; t < n; t++) {
            int at = t * lin.out;
            for (int i = 0; i < lin.out; i++) out[at + i] += lin.b[i];
        }
    }

    /** LayerNorm over each token's row (biased variance, as torch.nn.LayerNorm), epsilon from the config. */
    private void layerNorm(float[] x, int n, float[] w, float[] b) {
        int h = cfg.hidden();
        double eps = cfg.layerNormEps();
        Parallel.forRange(n, 4L * h, (from, to) -> {
            for (int t = from; t < to; t++) {
                int at = t * h;
                double mean = 0;
                for (int i = 0; i < h; i++) mean += x[at + i];
                mean /= h;
                double var = 0;
                for (int i = 0; i < h; i++) {
                    double d = x[at + i] - mean;
                    var += d * d;
                }
                var /= h;
                double inv = 1.0 / Math.sqrt(var + eps);
                for (int i = 0; i < h; i++) x[at + i] = (float) ((x[at + i] - mean) * inv) * w[i] + b[i];
            }
        });
    }

    /** HF "gelu": {@code x * Phi(x) = x/2 (1 + erf(x / sqrt 2))} (transformers activations.py GELUActivation). */
    static float gelu(float x) {
        return (float) (0.5 * x * (1.0 + erf(x * 0.7071067811865476)));
    }

    /**
     * The error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under float precision of
     * {@code 1 + erf}); Java has no erf.
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * ax);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1.0 - poly * Math.exp(-ax * ax);
        return x < 0 ? -r : r;
    }

    private static Linear linear(WeightSource w, GgmlType projectionType, Path file, String template, int layer, int in, int out) {
        FloatTensor weight = quantized(tensor(w, file, block(template, layer, ".weight"), in, out), projectionType, in);
        float[] bias = vector(tensor(w, file, block(template, layer, ".bias"), out), out);
        return new Linear(weight, bias, in, out);
    }

    /** The tensor {@code name} with GGUF shape {@code dims} ({@code dims[0]} = row length). */
    private static FloatTensor tensor(WeightSource w, Path file, String name, long... dims) {
        FloatTensor t = w.tensor(name);
        if (t == null) throw new ModelFormatException(file, "missing BERT tensor " + name);
        long[] shape = w.shape(name);
        long[] trimmed = shape;
        // A 1-D vector may be stored as [n, 1] in some writers: compare without trailing 1s.
        while (trimmed.length > dims.length && trimmed[trimmed.length - 1] == 1) trimmed = Arrays.copyOf(trimmed, trimmed.length - 1);
        if (!Arrays.equals(trimmed, dims)) {
            throw new ModelFormatException(file, "tensor " + name + " has shape " + Arrays.toString(shape) + ", expected "
                    + Arrays.toString(dims) + " (GGUF order) for this BERT configuration");
        }
        return t;
    }

    /** {@code t} (rows of {@code rowLength}) in {@code type}; as stored when type is null or rows are not whole blocks. */
    private static FloatTensor quantized(FloatTensor t, GgmlType type, int rowLength) {
        if (type == null || type == t.type() || rowLength % type.blockSize != 0) return t;
        // BERT-small matrices are at most a few million values: one heap array, no row grouping needed.
        float[] values = new float[Math.toIntExact(t.size())];
        t.copyTo(0, values, 0, values.length);
        return Tensors.view(type, Quantizer.quantize(type, values), values.length);
    }

    private static float[] vector(FloatTensor t, int n) {
        float[] out = new float[n];
        t.copyTo(0, out, 0, n);
        return out;
    }
}
