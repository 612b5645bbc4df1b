package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.tensor.FloatTensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The hyper-parameters of a decoder-only transformer, read from GGUF metadata or an HF {@code config.json}.
 *
 * @param architecture   which row of {@link Architecture}
 * @param dim            hidden size (embedding length)
 * @param layers         number of blocks
 * @param heads          query heads
 * @param kvHeads        key/value heads (GQA when fewer than heads)
 * @param headDim        size of one head
 * @param ffnDim         MLP intermediate size
 * @param vocabSize      rows of the embedding / output matrices
 * @param contextLength  the longest sequence the model was trained for; the KV cache never exceeds it
 * @param rmsEps         RMSNorm epsilon
 * @param ropeTheta      rotary base
 * @param ropeStyle      how the weights in this layout pair up rotary dimensions
 * @param rotaryDim      how many leading dimensions of each head rotate (partial rotary when below headDim)
 * @param ropeScaling    frequency scaling, or null for none
 * @param tiedEmbeddings the output projection is the token embedding matrix
 * @param qkvBias        q/k/v projections carry a bias
 * @param qkNorm         per-head RMSNorm of q and k before rope ({@code attn_q_norm} / {@code attn_k_norm})
 * @param moe            the mixture-of-experts parameters, or null for a dense model; {@link #layers} counts the
 *                       layers that run (a GGUF {@code block_count} also counts the MTP blocks, {@link MoeConfig#nextnLayers})
 */
public record ModelConfig(Architecture architecture, int dim, int layers, int heads, int kvHeads, int headDim,
                          int ffnDim, int vocabSize, int contextLength, float rmsEps, double ropeTheta,
                          RopeStyle ropeStyle, int rotaryDim, RopeScaling ropeScaling, boolean tiedEmbeddings,
                          boolean qkvBias, boolean qkNorm, MoeConfig moe) {

    /** A dense model with the architecture's q/k norm default. */
    public ModelConfig(Architecture architecture, int dim, int layers, int heads, int kvHeads, int headDim,
                       int ffnDim, int vocabSize, int contextLength, float rmsEps, double ropeTheta,
                       RopeStyle ropeStyle, int rotaryDim, RopeScaling ropeScaling, boolean tiedEmbeddings,
                       boolean qkvBias) {
        this(architecture, dim, layers, heads, kvHeads, headDim, ffnDim, vocabSize, contextLength, rmsEps, ropeTheta,
                ropeStyle, rotaryDim, ropeScaling, tiedEmbeddings, qkvBias, architecture.qkNorm(), null);
    }

    // Generous bounds: the largest real models stay far below them, and a hostile file cannot make us
    // allocate gigabytes of KV cache or scratch from a single absurd number.
    static final int MAX_DIM = 1 << 16;
    static final int MAX_LAYERS = 1 << 10;
    static final int MAX_HEADS = 1 << 10;
    static final int MAX_HEAD_DIM = 1 << 11;
    static final int MAX_FFN = 1 << 19;
    static final int MAX_VOCAB = 1 << 22;
    static final int MAX_CONTEXT = 1 << 24;

    /** Checks the numbers are sane; throws ModelFormatException naming {@code file} otherwise. */
    public ModelConfig validate(Path file) {
        check(file, "embedding length", dim, MAX_DIM);
        check(file, "block count", layers, MAX_LAYERS);
        check(file, "head count", heads, MAX_HEADS);
        check(file, "key/value head count", kvHeads, MAX_HEADS);
        check(file, "head dimension", headDim, MAX_HEAD_DIM);
        check(file, "feed-forward length", ffnDim, MAX_FFN);
        check(file, "vocabulary size", vocabSize, MAX_VOCAB);
        check(file, "context length", contextLength, MAX_CONTEXT);
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(file, "key/value head count " + kvHeads + " does not divide head count " + heads);
        }
        if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
            throw new ModelFormatException(file, "rotary dimension " + rotaryDim + " must be even and within the head dimension " + headDim);
        }
        if (!(rmsEps > 0 && rmsEps < 1)) throw new ModelFormatException(file, "RMS norm epsilon " + rmsEps + " is not in (0, 1)");
        if (!(ropeTheta > 0 && Double.isFinite(ropeTheta))) throw new ModelFormatException(file, "rope base " + ropeTheta + " is not positive");
        if ((moe != null) != (architecture.moeGating() != null)) {
            throw new ModelFormatException(file, architecture + (moe == null ? " needs mixture-of-experts parameters" : " is not a mixture-of-experts architecture"));
        }
        if (moe != null) moe.validate(file, layers);
        return this;
    }

    private static void check(Path file, String what, int value, int max) {
        if (value <= 0 || value > max) {
            throw new ModelFormatException(file, what + " " + value + " is out of range (1.." + max + ")");
        }
    }

    /** Query width: heads * headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Key/value width: kvHeads * headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /**
     * Inverse rotary frequencies, one per rotating pair: {@code theta^(-2i/rotaryDim)} (RoFormer; HF
     * {@code _compute_default_rope_parameters}), then scaled. Computed in double; positions multiply it.
     */
    /** The cos/sin scale of the rope ({@link RopeScaling#attentionFactor}): 1 unless the scaling is YaRN. */
    public double ropeAttentionFactor() {
        return ropeScaling == null ? 1.0 : ropeScaling.attentionFactor();
    }

    public double[] ropeInvFreq() {
        double[] inv = new double[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / rotaryDim);
        if (ropeScaling != null) ropeScaling.apply(inv);
        return inv;
    }

    // ---------------------------------------------------------------------------------------- GGUF

    /** From GGUF metadata; {@code weights} supplies {@code rope_freqs.weight} and tied-embedding detection. */
    public static ModelConfig fromGguf(Map<String, GgufValue> metadata, WeightSource weights) {
        return fromGguf(Path.of("(gguf)"), metadata, weights);
    }

    /** As {@link #fromGguf(Map, WeightSource)}, naming {@code file} in errors. */
    public static ModelConfig fromGguf(Path file, Map<String, GgufValue> metadata, WeightSource weights) {
        String archName = ggufString(file, metadata, GgufKeys.ARCHITECTURE, null);
        Architecture arch = Architecture.byGgufName(archName);
        if (arch == null) {
            throw new ModelFormatException(file, "unsupported architecture '" + archName + "' (supported: "
                    + Architecture.ALL.stream().map(Architecture::ggufName).toList() + ")");
        }
        int dim = ggufInt(file, metadata, GgufKeys.EMBEDDING_LENGTH.of(archName), null);
        int blocks = ggufInt(file, metadata, GgufKeys.BLOCK_COUNT.of(archName), null);
        // llama.cpp glm4moe: block_count includes the nextn (MTP) blocks, which llm_build_glm4_moe loads and skips
        int nextn = metadata.containsKey(GgufKeys.NEXTN_PREDICT_LAYERS.of(archName)) ? ggufInt(file, metadata, GgufKeys.NEXTN_PREDICT_LAYERS.of(archName), null) : 0;
        if (nextn < 0 || nextn >= blocks) throw new ModelFormatException(file, "nextn_predict_layers " + nextn + " leaves no layer of the " + blocks + " blocks");
        int layers = blocks - nextn;
        int heads = ggufInt(file, metadata, GgufKeys.HEAD_COUNT.of(archName), null);
        int kvHeads = ggufInt(file, metadata, GgufKeys.HEAD_COUNT_KV.of(archName), heads);
        if (heads <= 0) throw new ModelFormatException(file, "head count " + heads + " is out of range");
        Integer keyLength = metadata.containsKey(GgufKeys.KEY_LENGTH.of(archName)) ? ggufInt(file, metadata, GgufKeys.KEY_LENGTH.of(archName), null) : null;
        int headDim = headDim(file, dim, heads, keyLength);
        int ffn = ggufInt(file, metadata, GgufKeys.FEED_FORWARD_LENGTH.of(archName), null);
        int context = ggufInt(file, metadata, GgufKeys.CONTEXT_LENGTH.of(archName), null);
        float eps = (float) ggufDouble(file, metadata, GgufKeys.RMS_EPSILON.of(archName), null);
        double theta = ggufDouble(file, metadata, GgufKeys.ROPE_FREQ_BASE.of(archName), 10000.0);
        int rotaryDim = ggufInt(file, metadata, GgufKeys.ROPE_DIMENSION_COUNT.of(archName), headDim);

        int vocab;
        GgufValue tokens = metadata.get(GgufKeys.TOKENIZER_TOKENS);
        if (tokens != null && tokens.value() instanceof List<?> list) {
            vocab = list.size();
        } else if (metadata.containsKey(GgufKeys.VOCAB_SIZE.of(archName))) {
            vocab = ggufInt(file, metadata, GgufKeys.VOCAB_SIZE.of(archName), null);
        } else {
            long[] shape = weights.shape(TensorRole.TOKEN_EMBD.tensorName());
            if (shape == null || shape.length != 2) throw new ModelFormatException(file, "no vocabulary: neither tokenizer.ggml.tokens nor token_embd.weight");
            vocab = (int) Math.min(Integer.MAX_VALUE, shape[1]);
        }

        RopeScaling scaling = null;
        String scalingType = metadata.containsKey(GgufKeys.ROPE_SCALING_TYPE.of(archName)) ? ggufString(file, metadata, GgufKeys.ROPE_SCALING_TYPE.of(archName), null) : "none";
        switch (scalingType) {
            case "none" -> { }
            case "linear" -> {
                double factor = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_FACTOR.of(archName), 1.0);
                if (!(factor > 0)) throw new ModelFormatException(file, "rope scaling factor " + factor + " is not positive");
                if (factor != 1.0) scaling = new RopeScaling.Linear(factor);
            }
            case "yarn" -> {
                // llama.cpp (llama-model.cpp, ggml rope_yarn): ext_factor defaults to 1 for YaRN, and the cos/sin scale is
                // yarn_attn_factor (default 1) times 1 + 0.1 ln(factor) (ggml: mscale *= 1 + 0.1 logf(1 / freq_scale)).
                double factor = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_FACTOR.of(archName), 1.0);
                double orig = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_ORIG_CTX.of(archName), null);
                double ext = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_YARN_EXT_FACTOR.of(archName), 1.0);
                double attn = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_YARN_ATTN_FACTOR.of(archName), 1.0);
                double fast = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_YARN_BETA_FAST.of(archName), 32.0);
                double slow = ggufDouble(file, metadata, GgufKeys.ROPE_SCALING_YARN_BETA_SLOW.of(archName), 1.0);
                if (!(factor > 0) || !(orig > 0) || orig > MAX_CONTEXT) {
                    throw new ModelFormatException(file, "YaRN rope scaling needs a positive factor (" + factor + ") and original context length (" + orig + ")");
                }
                try {
                    scaling = new RopeScaling.Yarn(factor, (int) orig, fast, slow, theta, ext,
                            attn * RopeScaling.Yarn.mscale(factor, 1), true);
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(file, e.getMessage());
                }
            }
            default -> throw new ModelFormatException(file, "unsupported rope scaling type '" + scalingType + "'");
        }
        FloatTensor ropeFreqs = weights.tensor(TensorRole.ROPE_FREQS.tensorName());
        if (ropeFreqs != null) {
            if (scaling != null) throw new ModelFormatException(file, "both rope_freqs.weight and rope scaling '" + scalingType + "'");
            if (rotaryDim <= 0 || rotaryDim > MAX_HEAD_DIM || ropeFreqs.size() != rotaryDim / 2) {
                throw new ModelFormatException(file, "rope_freqs.weight has " + ropeFreqs.size() + " entries, expected rotary dimension / 2 = " + rotaryDim / 2);
            }
            float[] divisors = new float[rotaryDim / 2];
            for (int i = 0; i < divisors.length; i++) {
                divisors[i] = ropeFreqs.getFloat(i);
                if (!(divisors[i] > 0) || Float.isInfinite(divisors[i])) {
                    throw new ModelFormatException(file, "rope_freqs.weight[" + i + "] = " + divisors[i] + " is not a positive divisor");
                }
            }
            scaling = new RopeScaling.FreqFactors(divisors);
        }

        boolean tied = weights.tensor(TensorRole.OUTPUT.tensorName()) == null;
        boolean bias = weights.tensor(TensorRole.ATTN_Q_BIAS.tensorName(0)) != null
                || weights.tensor(TensorRole.ATTN_QKV_BIAS.tensorName(0)) != null;
        boolean qkNorm = weights.tensor(TensorRole.ATTN_Q_NORM.tensorName(0)) != null;
        MoeConfig moe = arch.moeGating() == null ? null : ggufMoe(file, metadata, archName, arch, layers, nextn);
        return new ModelConfig(arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, eps, theta,
                arch.ggufRope(), rotaryDim, scaling, tied, bias, qkNorm, moe).validate(file);
    }

    /**
     * The MoE keys as llama.cpp's load_hparams reads them: expert_count, expert_used_count, expert_feed_forward_length,
     * expert_shared_count (0), leading_dense_block_count (0), expert_weights_scale (1), expert_weights_norm,
     * expert_gating_func, expert_group_count / expert_group_used_count (1). Where a key is absent, the default is
     * llama.cpp's for the architecture: qwen3moe always normalizes the selected weights (llm_build_qwen3moe passes
     * norm_w = true) with softmax gating; glm4moe defaults to sigmoid gating and no normalization.
     */
    private static MoeConfig ggufMoe(Path file, Map<String, GgufValue> md, String a, Architecture arch, int layers, int nextn) {
        int experts = ggufInt(file, md, GgufKeys.EXPERT_COUNT.of(a), null);
        int used = ggufInt(file, md, GgufKeys.EXPERT_USED_COUNT.of(a), null);
        int expertFfn = ggufInt(file, md, GgufKeys.EXPERT_FEED_FORWARD_LENGTH.of(a), null);
        int shared = ggufInt(file, md, GgufKeys.EXPERT_SHARED_COUNT.of(a), 0);
        int dense = ggufInt(file, md, GgufKeys.LEADING_DENSE_BLOCK_COUNT.of(a), 0);
        double scale = ggufDouble(file, md, GgufKeys.EXPERT_WEIGHTS_SCALE.of(a), 1.0);
        if (scale == 0) scale = 1.0; // llama.cpp: 0 means "no scaling"
        boolean softmaxDefault = arch.moeGating() == MoeConfig.Gating.SOFTMAX;
        GgufValue normV = md.get(GgufKeys.EXPERT_WEIGHTS_NORM.of(a));
        boolean norm = normV == null ? softmaxDefault : Boolean.TRUE.equals(normV.value());
        int gatingId = ggufInt(file, md, GgufKeys.EXPERT_GATING_FUNC.of(a), arch.moeGating().ggufId);
        MoeConfig.Gating gating = MoeConfig.Gating.ofGguf(gatingId);
        if (gating == null) throw new ModelFormatException(file, "unsupported expert_gating_func " + gatingId + " (1 softmax, 2 sigmoid)");
        int groups = ggufInt(file, md, GgufKeys.EXPERT_GROUP_COUNT.of(a), 1);
        int groupsUsed = ggufInt(file, md, GgufKeys.EXPERT_GROUP_USED_COUNT.of(a), groups == 1 ? 1 : groups);
        return new MoeConfig(experts, used, expertFfn, shared, dense, gating, norm, scale, Math.max(1, groups), groupsUsed, nextn)
                .validate(file, layers);
    }

    private static int headDim(Path file, int dim, int heads, Integer explicit) {
        if (explicit != null) return explicit;
        if (dim <= 0 || dim % heads != 0) {
            throw new ModelFormatException(file, "head count " + heads + " does not divide the embedding length " + dim);
        }
        return dim / heads;
    }

    private static GgufValue ggufValue(Path file, Map<String, GgufValue> md, String key, boolean required) {
        GgufValue v = md.get(key);
        if (v == null && required) throw new ModelFormatException(file, "missing metadata key " + key);
        return v;
    }

    private static int ggufInt(Path file, Map<String, GgufValue> md, String key, Integer def) {
        GgufValue v = ggufValue(file, md, key, def == null);
        if (v == null) return def;
        if (!(v.value() instanceof Number n) || v.value() instanceof Float || v.value() instanceof Double) {
            throw new ModelFormatException(file, "metadata key " + key + " should be an integer, is " + v.type());
        }
        long l = n.longValue();
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "metadata key " + key + " = " + l + " is out of range");
        }
        return (int) l;
    }

    private static double ggufDouble(Path file, Map<String, GgufValue> md, String key, Double def) {
        GgufValue v = ggufValue(file, md, key, def == null);
        if (v == null) return def;
        if (!(v.value() instanceof Number n)) throw new ModelFormatException(file, "metadata key " + key + " should be a number, is " + v.type());
        return n.doubleValue();
    }

    private static String ggufString(Path file, Map<String, GgufValue> md, String key, String def) {
        GgufValue v = ggufValue(file, md, key, def == null);
        if (v == null) return def;
        if (!(v.value() instanceof String s)) throw new ModelFormatException(file, "metadata key " + key + " should be a string, is " + v.type());
        return s;
    }

    // ------------------------------------------------------------------------------------------ HF

    /** From an HF {@code config.json} tree. */
    public static ModelConfig fromHfConfig(JsonNode config) {
        return fromHfConfig(Path.of("config.json"), config);
    }

    /**
     * As {@link #fromHfConfig(JsonNode)}, naming {@code file} in errors. The architecture row and its HF layout come
     * from {@code architectures[0]} (else {@code model_type}); keys and defaults are the layout's {@link HfConfigKeys}
     * (transformers' configuration_*.py), the same the GGUF converter reads.
     */
    public static ModelConfig fromHfConfig(Path file, JsonNode config) {
        if (config == null || !config.isObject()) throw new ModelFormatException(file, "config is not a JSON object");
        HfLayout layout = Architecture.layoutOf(config);
        if (layout == null) {
            JsonNode archs = config.get("architectures");
            String name = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText()
                    : config.path("model_type").asText("(none)");
            throw new ModelFormatException(file, "unsupported architecture '" + name + "' (supported: "
                    + Architecture.ALL.stream().flatMap(a -> a.hfClasses().stream()).toList() + ")");
        }
        Architecture arch = Architecture.byHfClass(layout.hfClass());
        HfConfigKeys k = layout.config();
        if (k.remoteCode()) return fromChatGlmConfig(file, config, arch, k);
        // Keys and defaults are the layout's (HfConfigKeys: transformers' configuration_*.py), the converter's too.
        int dim = hfInt(file, config, "hidden_size", null);
        int layers = hfInt(file, config, k.layers(), null);
        int heads = hfInt(file, config, "num_attention_heads", null);
        if (heads <= 0) throw new ModelFormatException(file, "num_attention_heads " + heads + " is out of range");
        int kvHeads = hfInt(file, config, k.kvHeads(), heads);
        String headDimKey = k.headDim().present(config);
        Integer explicitHeadDim = headDimKey != null ? Integer.valueOf(hfInt(file, config, headDimKey, null)) : k.headDim().intDefault();
        int headDim = headDim(file, dim, heads, explicitHeadDim);
        int ffn = hfInt(file, config, k.ffn(), null);
        int vocab = hfInt(file, config, k.vocab(), null);
        int context = hfInt(file, config, k.context(), null);
        double eps = hfDouble(file, config, k.rmsEps());
        hfDouble(file, config, "rope_theta", 10000.0); // type check only; the value is read with rope_parameters below
        double theta = HfRopeParameters.theta(config);
        if (!(theta > 0) || !Double.isFinite(theta)) throw new ModelFormatException(file, "rope_theta " + theta + " is not a positive number");
        Double partial = HfRopeParameters.partialRotaryFactor(config, k.partialRotary());
        if (partial == null || !(partial > 0 && partial <= 1)) throw new ModelFormatException(file, "partial_rotary_factor " + partial + " is not in (0, 1]");
        // int(head_dim * partial_rotary_factor), as modeling_rope_utils _compute_default_rope_parameters truncates
        int rotaryDim = (int) (headDim * partial);
        boolean tied = config.path("tie_word_embeddings").asBoolean(false);
        boolean bias = arch.defaultQkvBias() || hfBoolean(config, k.qkvBias());
        boolean qkNorm = arch.qkNorm() || config.path("use_qk_norm").asBoolean(false);
        MoeConfig moe = arch.moeGating() == null ? null : MoeConfig.fromHf(file, config, arch.moeGating(), layers);
        if (config.path("use_sliding_window").asBoolean(false)) {
            throw new ModelFormatException(file, "sliding-window attention (use_sliding_window) is not supported");
        }

        RopeScaling scaling = null;
        // rope_scaling (transformers 4) or rope_parameters (transformers 5): the same reader as the converter
        JsonNode rs = HfRopeParameters.scaling(config);
        if (rs != null) {
            String type = rs.hasNonNull("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
            switch (type) {
                case "default" -> { }
                case "linear" -> scaling = new RopeScaling.Linear(positive(file, rs, "factor"));
                case "llama3" -> {
                    double factor = positive(file, rs, "factor");
                    double low = positive(file, rs, "low_freq_factor");
                    double high = positive(file, rs, "high_freq_factor");
                    double orig = positive(file, rs, "original_max_position_embeddings");
                    if (!(high > low)) throw new ModelFormatException(file, "rope_scaling high_freq_factor " + high + " must exceed low_freq_factor " + low);
                    if (orig > MAX_CONTEXT) throw new ModelFormatException(file, "rope_scaling original_max_position_embeddings " + orig + " is out of range");
                    scaling = new RopeScaling.Llama3(factor, low, high, (int) orig);
                }
                case "yarn" -> {
                    try {
                        scaling = HfRopeParameters.yarn(config, rotaryDim);
                    } catch (IllegalArgumentException e) {
                        throw new ModelFormatException(file, e.getMessage());
                    }
                }
                default -> throw new ModelFormatException(file, "unsupported rope_scaling type '" + type + "'");
            }
        }
        return new ModelConfig(arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, (float) eps, theta,
                arch.hfRope(), rotaryDim, scaling, tied, bias, qkNorm, moe).validate(file);
    }

    /**
     * The remote-code ChatGLM config ({@code model_type: chatglm}; THUDM chatglm3-6b / glm-4-9b-chat
     * configuration_chatglm.py and modeling_chatglm.py). Heads of {@code kv_channels} (default hidden/heads),
     * {@code multi_query_group_num} key/value groups, {@code ffn_hidden_size}, {@code padded_vocab_size} embedding rows,
     * {@code seq_length} positions, {@code layernorm_epsilon}. ChatGLMModel builds {@code RotaryEmbedding(kv_channels // 2)}
     * whose cache has kv_channels/4 frequencies {@code base^(-2i/(kv_channels/2))}, base = 10000 * rope_ratio, and
     * apply_rotary_pos_emb rotates the first {@code rot_dim = kv_channels/2} dimensions as adjacent pairs. Variants the
     * one forward pass does not implement (LayerNorm instead of RMSNorm, linear biases, residual from the normed input,
     * no final norm, per-head interleaved q|k|v without multi-query attention) are refused.
     */
    private static ModelConfig fromChatGlmConfig(Path file, JsonNode config, Architecture arch, HfConfigKeys k) {
        int dim = hfInt(file, config, "hidden_size", null);
        int layers = hfInt(file, config, k.layers(), null);
        int heads = hfInt(file, config, "num_attention_heads", null);
        if (heads <= 0) throw new ModelFormatException(file, "num_attention_heads " + heads + " is out of range");
        if (!config.path("multi_query_attention").asBoolean(false)) {
            throw new ModelFormatException(file, "multi_query_attention must be true (the per-head interleaved q|k|v layout of ChatGLM2 without it is not supported)");
        }
        int kvHeads = hfInt(file, config, k.kvHeads(), null);
        String kvChannelsKey = k.headDim().present(config);
        Integer kvChannels = kvChannelsKey != null ? Integer.valueOf(hfInt(file, config, kvChannelsKey, null)) : k.headDim().intDefault();
        int headDim = headDim(file, dim, heads, kvChannels);
        int ffn = hfInt(file, config, k.ffn(), null);
        int vocab = hfInt(file, config, k.vocab(), null);
        int context = hfInt(file, config, k.context(), null);
        double eps = hfDouble(file, config, k.rmsEps());
        double ropeRatio = hfDouble(file, config, "rope_ratio", 1.0);
        if (!(ropeRatio > 0) || !Double.isFinite(ropeRatio)) throw new ModelFormatException(file, "rope_ratio " + ropeRatio + " must be a positive number");
        if (!config.path("rmsnorm").asBoolean(false)) throw new ModelFormatException(file, "rmsnorm must be true (LayerNorm ChatGLM variants are not supported)");
        if (config.path("add_bias_linear").asBoolean(false)) throw new ModelFormatException(file, "add_bias_linear (biases on every linear layer) is not supported");
        if (config.path("apply_residual_connection_post_layernorm").asBoolean(false)) {
            throw new ModelFormatException(file, "apply_residual_connection_post_layernorm is not supported");
        }
        if (!config.path("post_layer_norm").asBoolean(true)) throw new ModelFormatException(file, "post_layer_norm false (no final norm) is not supported");
        if (config.hasNonNull("rope_scaling")) throw new ModelFormatException(file, "rope_scaling is not supported for ChatGLM");
        boolean bias = hfBoolean(config, k.qkvBias());
        boolean tied = config.path("tie_word_embeddings").asBoolean(false);
        return new ModelConfig(arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, (float) eps,
                10000.0 * ropeRatio, arch.hfRope(), (int) (headDim * k.partialRotary()), null, tied, bias).validate(file);
    }

    private static double positive(Path file, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
            throw new ModelFormatException(file, "rope_scaling." + key + " must be a positive number, is " + v);
        }
        return v.asDouble();
    }

    private static int hfInt(Path file, JsonNode config, String key, Integer def) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) {
            if (def == null) throw new ModelFormatException(file, "missing " + key);
            return def;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new ModelFormatException(file, key + " should be an integer, is " + v);
        return v.intValue();
    }

    /**
     * The first of {@code key}'s names present, else its default, else {@code fallback}; "missing" naming the key's
     * last (most common) name when all three are absent.
     */
    private static int hfInt(Path file, JsonNode config, HfConfigKeys.Key key, Integer fallback) {
        String name = key.present(config);
        if (name != null) return hfInt(file, config, name, null);
        Integer def = key.intDefault() != null ? key.intDefault() : fallback;
        if (def == null) throw new ModelFormatException(file, "missing " + key.names().getLast());
        return def;
    }

    private static double hfDouble(Path file, JsonNode config, HfConfigKeys.Key key) {
        String name = key.present(config);
        Double def = key.doubleDefault();
        if (name == null && def == null) throw new ModelFormatException(file, "missing " + key.names().getLast());
        return name == null ? def : hfDouble(file, config, name, 0);
    }

    private static boolean hfBoolean(JsonNode config, HfConfigKeys.Key key) {
        String name = key.present(config);
        boolean def = key.def() != null && (Boolean) key.def();
        return name == null ? def : config.get(name).asBoolean(def);
    }

    private static double hfDouble(Path file, JsonNode config, String key, double def) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new ModelFormatException(file, key + " should be a number, is " + v);
        return v.doubleValue();
    }
}
