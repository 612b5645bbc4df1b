package ai.autoglm.core.convert;

import ai.autoglm.core.format.hf.HfTokenizerToGguf;
import ai.autoglm.core.model.QkRowPermutation;
import ai.autoglm.core.model.HfToGgufNames;
import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.MoeConfig;
import ai.autoglm.core.model.HfConfigKeys;
import ai.autoglm.core.model.HfRopeParameters;
import ai.autoglm.core.model.RopeScaling;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.safetensors.SafetensorsDtype;
import ai.autoglm.core.format.safetensors.SafetensorsTensorInfo;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Map;

/**
 * Converts a Hugging Face directory of any {@link Architecture} row's HF layout (LlamaForCausalLM, Qwen2ForCausalLM,
 * the GLM classes) to GGUF the way llama.cpp's convert_hf_to_gguf.py does ({@code LlamaModel}, {@code Qwen2Model},
 * {@code ChatGLMModel}, {@code Glm4Model}, {@code TextModel}), so the file loads in llama.cpp and in this engine alike:
 * <ul>
 *   <li>hyper-parameters under the config keys, with the defaults, of the row's {@link HfConfigKeys} (the loader's);</li>
 *   <li>tensor names from {@link HfToGgufNames}; {@code rotary_emb.inv_freq} and attention mask buffers skipped
 *       ({@code prepare_tensors}); any other unmapped tensor is an error ("Can not map tensor");</li>
 *   <li>llama Q/K rows permuted from HF's rotate-half layout to GGUF llama's interleaved RoPE layout
 *       ({@code LlamaModel.permute}, {@link QkRowPermutation#permute});</li>
 *   <li>for {@code rope_type: "llama3"}, a {@code rope_freqs.weight} tensor first ({@code generate_extra_tensors});</li>
 *   <li>types as {@code prepare_tensors} picks them: 1-D tensors, {@code *_norm.weight} and anything not ending in
 *       {@code .weight} (biases) stay F32; other tensors take the output type, and Q8_0 falls back to F16 when the row
 *       length is not a multiple of 32 (gguf-py quants raise QuantError, the converter falls back to F16);</li>
 *   <li>metadata keys of {@code TextModel.set_gguf_parameters} (+ {@code LlamaModel}'s vocab_size and
 *       rope.dimension_count) and the tokenizer ({@link HfTokenizerToGguf}).</li>
 * </ul>
 * {@code general.name} is the directory name (the reference's fallback when no model card gives one).
 * Tensors already in the output layout and not permuted are passed to the writer as slices of the memory-mapped
 * shard (no copy); the rest are converted one tensor at a time through a float array.
 */
public final class HfToGgufConverter {

    /** llama.cpp enum llama_ftype values (gguf-py constants.py LlamaFileType). */
    static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;  // ALL_F32
            case F16 -> 1;  // MOSTLY_F16
            case Q8_0 -> 7; // MOSTLY_Q8_0
            case BF16 -> 32; // MOSTLY_BF16
            default -> throw new IllegalArgumentException("output type must be F32, F16, BF16 or Q8_0, got " + t);
        };
    }

    private HfToGgufConverter() {
    }

    /** Converts {@code hfDir} to {@code outGguf} (written atomically) with weights in {@code outType}. */
    public static void convert(Path hfDir, Path outGguf, GgmlType outType) {
        int ftype = fileType(outType);
        try (HfCheckpoint ck = HfCheckpoint.open(hfDir)) {
            Path configFile = hfDir.resolve(HfCheckpoint.CONFIG);
            JsonNode c = ck.config();
            HfToGgufNames names = HfToGgufNames.forConfig(configFile, c);
            String arch = names.ggufArchitecture();
            HfConfigKeys keys = names.architecture().config(); // the row's config keys and defaults, as the loader reads them
            GgufWriter w = new GgufWriter();

            // ModelBase.prepare_metadata: arch (GGUFWriter ctor), general.type, metadata.name, then the parameters.
            w.putString(GgufKeys.ARCHITECTURE, arch);
            w.putString(GgufKeys.TYPE, "model");
            Path abs = hfDir.toAbsolutePath().normalize();
            w.putString(GgufKeys.NAME, abs.getFileName() == null ? "model" : abs.getFileName().toString());

            int heads = requireInt(configFile, c, "num_attention_heads");
            int kvHeads;
            switch (arch) {
                case "chatglm" -> kvHeads = chatGlmParameters(configFile, c, keys, w, ftype);
                case "glm4" -> {
                    kvHeads = textModelParameters(configFile, c, keys, arch, w, ftype);
                    // Glm4Model.set_gguf_parameters: rope over int(head_dim * partial_rotary_factor) dimensions. Glm4Config
                    // defaults head_dim to 128 (not hidden/heads); say so in the file when config.json leaves it out.
                    String headDimKey = keys.headDim().present(c);
                    int headDim = headDimKey != null ? requireInt(configFile, c, headDimKey) : keys.headDim().intDefault();
                    if (headDimKey == null) {
                        w.putUint32(GgufKeys.KEY_LENGTH.of(arch), headDim);
                        w.putUint32(GgufKeys.VALUE_LENGTH.of(arch), headDim);
                    }
                    w.putUint32(GgufKeys.ROPE_DIMENSION_COUNT.of(arch), (long) (headDim * partialRotaryFactor(configFile, c, keys)));
                }
                case "qwen3", "qwen3moe", "glm4moe" -> {
                    kvHeads = textModelParameters(configFile, c, keys, arch, w, ftype);
                    // Qwen3Config defaults head_dim to 128 (not hidden/heads): say so in the file when config.json leaves it out
                    String headDimKey = keys.headDim().present(c);
                    int headDim = headDimKey != null ? requireInt(configFile, c, headDimKey)
                            : keys.headDim().def() != null ? keys.headDim().intDefault() : requireInt(configFile, c, "hidden_size") / heads;
                    if (headDimKey == null && keys.headDim().def() != null) {
                        w.putUint32(GgufKeys.KEY_LENGTH.of(arch), headDim);
                        w.putUint32(GgufKeys.VALUE_LENGTH.of(arch), headDim);
                    }
                    if (arch.equals("glm4moe")) {
                        // Glm4MoeModel.set_gguf_parameters: rope over int(head_dim * partial_rotary_factor) dimensions
                        w.putUint32(GgufKeys.ROPE_DIMENSION_COUNT.of(arch), (long) (headDim * partialRotaryFactor(configFile, c, keys)));
                    }
                    moeParameters(configFile, c, names.modelArchitecture(), intKey(configFile, c, keys.layers()), w);
                }
                default -> {
                    kvHeads = textModelParameters(configFile, c, keys, arch, w, ftype);
                    if (arch.equals("llama")) {
                        // LlamaModel.set_gguf_parameters
                        w.putUint32(GgufKeys.VOCAB_SIZE.of(arch), requireInt(configFile, c, "vocab_size"));
                        w.putUint32(GgufKeys.ROPE_DIMENSION_COUNT.of(arch), HfRopeParameters.headDim(c));
                    }
                }
            }
            w.putUint32(GgufKeys.QUANTIZATION_VERSION, 2); // GGML_QUANT_VERSION
            for (Map.Entry<String, GgufValue> e : HfTokenizerToGguf.metadata(hfDir, c, arch).entrySet()) {
                w.put(e.getKey(), e.getValue());
            }

            // Tensors: generate_extra_tensors first, then the checkpoint's.
            // Written for any architecture whose config asks for llama3 scaling (the reference's LlamaModel is the only
            // one that does; a llama-like row registered under another name must not lose its scaling on conversion).
            float[] ropeFreqs = HfRopeParameters.llama3Factors(c);
            if (ropeFreqs != null) {
                w.addTensor(TensorRole.ROPE_FREQS.tensorName(), new long[]{ropeFreqs.length}, ropeFreqs, GgmlType.F32);
            }
            Map<String, java.util.TreeMap<Integer, String>> experts = new java.util.LinkedHashMap<>();
            for (String hfName : ck.tensorNames()) {
                if (hfName.endsWith(".attention.masked_bias") || hfName.endsWith(".attention.bias")
                        || hfName.endsWith(".rotary_emb.inv_freq") || hfName.endsWith(".rotary_pos_emb.inv_freq")) {
                    continue;
                }
                String gguf = names.toGguf(hfName);
                HfToGgufNames.ExpertTensor expert = gguf == null ? names.expertTensor(hfName) : null;
                if (expert != null) {
                    experts.computeIfAbsent(expert.ggufName(), k -> new java.util.TreeMap<>()).put(expert.expert(), hfName);
                    continue;
                }
                if (gguf == null) {
                    throw new ModelFormatException(ck.fileOf(hfName), "can not map tensor '" + hfName + "' to a GGUF name for " + arch);
                }
                addTensor(w, ck, hfName, gguf, names.architecture().permuteQK() ? permuteHeads(hfName, heads, kvHeads) : 0, outType);
            }
            // Qwen2MoeModel / Glm4MoeModel.modify_tensors: a layer's experts stacked into one 3-D tensor by expert id
            for (Map.Entry<String, java.util.TreeMap<Integer, String>> e : experts.entrySet()) {
                addStackedExperts(w, ck, e.getKey(), e.getValue(), outType);
            }
            w.write(outGguf);
        }
    }

    /**
     * TextModel.set_gguf_parameters (llama, qwen2, glm4, and rows registered with transformers-native configs), under
     * the key names of the row's {@link HfConfigKeys}; returns the key/value head count. Like the reference, a key
     * absent from config.json is not written, except where the loader would then read a different value than it reads
     * from the directory: key/value heads and context length take the row's default (GlmConfig: 2 kv heads), and so
     * does the epsilon, which a GGUF must carry.
     */
    private static int textModelParameters(Path configFile, JsonNode c, HfConfigKeys k, String arch, GgufWriter w, int ftype) {
        int heads = requireInt(configFile, c, "num_attention_heads");
        String kvKey = k.kvHeads().present(c);
        int kvHeads = kvKey != null ? requireInt(configFile, c, kvKey) : k.kvHeads().def() != null ? k.kvHeads().intDefault() : heads;
        w.putUint32(GgufKeys.BLOCK_COUNT.of(arch), intKey(configFile, c, k.layers()));
        String contextKey = k.context().present(c);
        if (contextKey != null) w.putUint32(GgufKeys.CONTEXT_LENGTH.of(arch), requireInt(configFile, c, contextKey));
        else if (k.context().def() != null) w.putUint32(GgufKeys.CONTEXT_LENGTH.of(arch), k.context().intDefault());
        w.putUint32(GgufKeys.EMBEDDING_LENGTH.of(arch), requireInt(configFile, c, "hidden_size"));
        String ffnKey = k.ffn().present(c);
        if (ffnKey != null) w.putUint32(GgufKeys.FEED_FORWARD_LENGTH.of(arch), requireInt(configFile, c, ffnKey));
        w.putUint32(GgufKeys.HEAD_COUNT.of(arch), heads);
        if (kvKey != null || k.kvHeads().def() != null) w.putUint32(GgufKeys.HEAD_COUNT_KV.of(arch), kvHeads);
        if (c.hasNonNull("rope_theta") || c.path("rope_parameters").hasNonNull("rope_theta")) {
            w.putFloat32(GgufKeys.ROPE_FREQ_BASE.of(arch), (float) HfRopeParameters.theta(c));
        }
        String epsKey = k.rmsEps().present(c);
        double eps = epsKey != null ? c.get(epsKey).asDouble() : k.rmsEps().doubleDefault();
        w.putFloat32(GgufKeys.RMS_EPSILON.of(arch), (float) eps);
        String headDimKey = k.headDim().present(c);
        if (headDimKey != null) {
            w.putUint32(GgufKeys.KEY_LENGTH.of(arch), requireInt(configFile, c, headDimKey));
            w.putUint32(GgufKeys.VALUE_LENGTH.of(arch), requireInt(configFile, c, headDimKey));
        }
        ropeScalingKeys(configFile, c, arch, w);
        w.putUint32(GgufKeys.FILE_TYPE, ftype);
        return kvHeads;
    }

    /**
     * convert_hf_to_gguf.py ChatGLMModel.set_gguf_parameters (the remote-code config and GlmForCausalLM's), same keys in
     * the same order. Where the reference falls back to a value that is wrong for the config at hand, the config's own
     * value is written instead: context length {@code seq_length}, else {@code max_position_embeddings} (reference:
     * hidden_size); epsilon {@code layernorm_epsilon}, else {@code rms_norm_eps} (reference: 1e-5); rope base
     * {@code 10000 * rope_ratio}, else {@code rope_theta} (reference: 10000); head size {@code kv_channels} / {@code
     * head_dim}, with attention.key_length/value_length written when it differs from hidden/heads (the reference assumes
     * it does not). Returns the key/value head count.
     */
    private static int chatGlmParameters(Path configFile, JsonNode c, HfConfigKeys k, GgufWriter w, int ftype) {
        String a = Architecture.CHATGLM.ggufName();
        int dim = requireInt(configFile, c, "hidden_size");
        int heads = requireInt(configFile, c, "num_attention_heads");
        String kvKey = k.kvHeads().present(c);
        int kvHeads = kvKey != null ? requireInt(configFile, c, kvKey) : k.kvHeads().def() != null ? k.kvHeads().intDefault() : heads;
        int layers = intKey(configFile, c, k.layers());
        // GlmConfig defaults head_dim to 128; the remote-code config to hidden/heads (modeling_chatglm.py ChatGLMModel)
        String headDimKey = k.headDim().present(c);
        int headDim = headDimKey != null ? requireInt(configFile, c, headDimKey) : k.headDim().def() != null ? k.headDim().intDefault() : dim / heads;
        w.putUint32(GgufKeys.CONTEXT_LENGTH.of(a), intKey(configFile, c, k.context()));
        w.putUint32(GgufKeys.EMBEDDING_LENGTH.of(a), dim);
        w.putUint32(GgufKeys.FEED_FORWARD_LENGTH.of(a), intKey(configFile, c, k.ffn()));
        w.putUint32(GgufKeys.BLOCK_COUNT.of(a), layers);
        w.putUint32(GgufKeys.HEAD_COUNT.of(a), heads);
        w.putUint32(GgufKeys.HEAD_COUNT_KV.of(a), kvHeads);
        String epsKey = k.rmsEps().present(c);
        double eps = epsKey != null ? c.get(epsKey).asDouble() : k.rmsEps().doubleDefault();
        w.putFloat32(GgufKeys.RMS_EPSILON.of(a), (float) eps);
        w.putUint32(GgufKeys.FILE_TYPE, ftype);
        if (headDim != dim / heads || dim % heads != 0) {
            w.putUint32(GgufKeys.KEY_LENGTH.of(a), headDim);
            w.putUint32(GgufKeys.VALUE_LENGTH.of(a), headDim);
        }
        // remote code: RotaryEmbedding(kv_channels // 2) rotates kv_channels/2 dims; -hf: head_dim * partial_rotary_factor
        w.putUint32(GgufKeys.ROPE_DIMENSION_COUNT.of(a),
                (long) (headDim * (k.remoteCode() ? k.partialRotary() : partialRotaryFactor(configFile, c, k))));
        w.putBool(GgufKeys.TOKENIZER_ADD_BOS, false);
        double base = c.has("rope_ratio") ? 10000.0 * c.get("rope_ratio").asDouble() : HfRopeParameters.theta(c);
        if (!(base > 0) || !Double.isFinite(base)) throw new ModelFormatException(configFile, "rope base " + base + " is not a positive number");
        w.putFloat32(GgufKeys.ROPE_FREQ_BASE.of(a), (float) base);
        if (HfRopeParameters.type(c) != null && !"default".equals(HfRopeParameters.type(c))) {
            throw new ModelFormatException(configFile, "rope scaling is not supported for chatglm");
        }
        return kvHeads;
    }

    /**
     * The MoE keys llama.cpp's converter writes: TextModel.set_gguf_parameters {@code expert_count} /
     * {@code expert_used_count}, Qwen2MoeModel {@code expert_feed_forward_length}; Glm4MoeModel also
     * {@code expert_shared_count}, {@code leading_dense_block_count}, {@code expert_gating_func} (sigmoid),
     * {@code expert_weights_scale}, {@code expert_weights_norm}, {@code nextn_predict_layers}, and a block count that
     * includes the MTP blocks. Beyond the reference: a Qwen3-MoE config with {@code norm_topk_prob} false gets
     * {@code expert_weights_norm = false} (llm_build_qwen3moe always normalizes; the config says not to), and grouped
     * routing ({@code n_group > 1}) gets {@code expert_group_count} / {@code expert_group_used_count}.
     */
    private static void moeParameters(Path configFile, JsonNode c, Architecture arch, int layers, GgufWriter w) {
        if (arch.moeGating() == null) return;
        String a = arch.ggufName();
        MoeConfig moe = MoeConfig.fromHf(configFile, c, arch.moeGating(), layers);
        w.putUint32(GgufKeys.EXPERT_COUNT.of(a), moe.experts());
        w.putUint32(GgufKeys.EXPERT_USED_COUNT.of(a), moe.used());
        w.putUint32(GgufKeys.EXPERT_FEED_FORWARD_LENGTH.of(a), moe.expertFfn());
        if (moe.gating() == MoeConfig.Gating.SIGMOID) {
            w.putUint32(GgufKeys.BLOCK_COUNT.of(a), layers + moe.nextnLayers());
            w.putUint32(GgufKeys.EXPERT_SHARED_COUNT.of(a), moe.shared());
            w.putUint32(GgufKeys.LEADING_DENSE_BLOCK_COUNT.of(a), moe.leadingDense());
            w.putUint32(GgufKeys.EXPERT_GATING_FUNC.of(a), moe.gating().ggufId);
            w.putFloat32(GgufKeys.EXPERT_WEIGHTS_SCALE.of(a), (float) moe.scale());
            w.putBool(GgufKeys.EXPERT_WEIGHTS_NORM.of(a), moe.normTopk());
            w.putUint32(GgufKeys.NEXTN_PREDICT_LAYERS.of(a), moe.nextnLayers());
        } else if (!moe.normTopk()) {
            w.putBool(GgufKeys.EXPERT_WEIGHTS_NORM.of(a), false);
        }
        if (moe.groups() > 1) {
            w.putUint32(GgufKeys.EXPERT_GROUP_COUNT.of(a), moe.groups());
            w.putUint32(GgufKeys.EXPERT_GROUP_USED_COUNT.of(a), moe.groupsUsed());
        }
    }

    /**
     * One stacked expert tensor ({@code [in, out, experts]} in GGUF order) from the per-expert HF matrices
     * ({@code [out, in]} each), expert after expert, each converted to the output type (rows never span experts, so
     * block formats quantize per expert exactly as per stacked tensor).
     */
    private static void addStackedExperts(GgufWriter w, HfCheckpoint ck, String gguf, java.util.TreeMap<Integer, String> byId, GgmlType outType) {
        String first = byId.firstEntry().getValue();
        if (byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
            throw new ModelFormatException(ck.fileOf(first), "experts of " + gguf + " are not numbered 0.." + (byId.size() - 1) + ": " + byId.keySet());
        }
        long[] hfShape = ck.info(first).shape();
        if (hfShape.length != 2) throw new ModelFormatException(ck.fileOf(first), "expert tensor '" + first + "' is not 2-D");
        long[] shape = {hfShape[1], hfShape[0], byId.size()};
        GgmlType type = outType;
        if (type.blockSize > 1 && shape[0] % type.blockSize != 0) type = GgmlType.F16;
        long perExpert = type.bytesFor(hfShape[0] * hfShape[1]);
        java.lang.foreign.MemorySegment all = java.lang.foreign.Arena.ofAuto().allocate(perExpert * byId.size(), 64);
        for (Map.Entry<Integer, String> e : byId.entrySet()) {
            String hfName = e.getValue();
            if (!java.util.Arrays.equals(ck.info(hfName).shape(), hfShape)) {
                throw new ModelFormatException(ck.fileOf(hfName), "expert tensor '" + hfName + "' has shape "
                        + java.util.Arrays.toString(ck.info(hfName).shape()) + ", expert 0 has " + java.util.Arrays.toString(hfShape));
            }
            FloatTensor src = ck.tensor(hfName);
            SafetensorsDtype stored = SafetensorsDtype.fromName(ck.info(hfName).dtype());
            java.lang.foreign.MemorySegment bytes;
            if (stored != null && stored.ggmlType == type) {
                bytes = ck.tensorData(hfName);
            } else {
                float[] values = new float[Math.toIntExact(src.size())];
                src.copyTo(0, values, 0, values.length);
                bytes = ai.autoglm.core.tensor.Quantizer.quantize(type, values);
            }
            java.lang.foreign.MemorySegment.copy(bytes, 0, all, e.getKey() * perExpert, perExpert);
        }
        w.addTensor(gguf, shape, type, all);
    }

    /** The first of {@code key}'s names present (a positive integer), else its default; an error naming it when neither. */
    private static int intKey(Path configFile, JsonNode c, HfConfigKeys.Key key) {
        String name = key.present(c);
        if (name != null) return requireInt(configFile, c, name);
        if (key.def() == null) throw new ModelFormatException(configFile, "needs a positive integer \"" + key.names().getLast() + "\", got null");
        return key.intDefault();
    }

    private static double partialRotaryFactor(Path configFile, JsonNode c, HfConfigKeys k) {
        Double v = HfRopeParameters.partialRotaryFactor(c, k.partialRotary());
        if (v == null || !(v > 0 && v <= 1)) {
            throw new ModelFormatException(configFile, "partial_rotary_factor must be in (0, 1], got " + v);
        }
        return v;
    }

    /** Heads to permute Q/K by (LlamaModel.modify_tensors: q with n_head, k with n_head_kv), or 0 for other tensors. */
    private static int permuteHeads(String hfName, int heads, int kvHeads) {
        if (hfName.endsWith("q_proj.weight") || hfName.endsWith("q_proj.bias")) return heads;
        if (hfName.endsWith("k_proj.weight") || hfName.endsWith("k_proj.bias")) return kvHeads;
        return 0;
    }

    private static void addTensor(GgufWriter w, HfCheckpoint ck, String hfName, String gguf, int permuteHeads, GgmlType outType) {
        SafetensorsTensorInfo info = ck.info(hfName);
        Path file = ck.fileOf(hfName);
        long[] hfShape = info.shape();
        if (hfShape.length > 4) {
            throw new ModelFormatException(file, "tensor '" + hfName + "' has " + hfShape.length + " dimensions; GGUF allows 4");
        }
        long[] shape = new long[Math.max(1, hfShape.length)];
        if (hfShape.length == 0) shape[0] = 1; // a scalar becomes a 1-element vector
        for (int i = 0; i < hfShape.length; i++) shape[i] = hfShape[hfShape.length - 1 - i];

        GgmlType type = outType;
        if (hfShape.length <= 1 || gguf.endsWith("_norm.weight") || !gguf.endsWith(".weight")) type = GgmlType.F32;
        // ModelBase.prepare_tensors keeps the MoE router (MODEL_TENSOR.FFN_GATE_INP) in F32 whatever the output type
        if (gguf.endsWith(".ffn_gate_inp.weight")) type = GgmlType.F32;
        if (type.blockSize > 1 && shape[0] % type.blockSize != 0) type = GgmlType.F16;

        FloatTensor src = ck.tensor(hfName); // throws "unsupported dtype" for non-float tensors
        SafetensorsDtype stored = SafetensorsDtype.fromName(info.dtype());
        if (permuteHeads == 0 && stored != null && stored.ggmlType == type) {
            w.addTensor(gguf, shape, type, ck.tensorData(hfName)); // zero copy: the writer reads the mapping
            return;
        }
        long n = src.size();
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "tensor '" + hfName + "' has " + n + " elements, too many to convert in one array");
        }
        float[] values = new float[(int) n];
        src.copyTo(0, values, 0, (int) n);
        if (permuteHeads > 0) {
            long rows = hfShape[0];
            if (rows % (2L * permuteHeads) != 0) {
                throw new ModelFormatException(file, "tensor '" + hfName + "' has " + rows + " rows, not divisible into "
                        + permuteHeads + " heads of pairs");
            }
            values = QkRowPermutation.permute(values, (int) rows, (int) (n / rows), permuteHeads);
        }
        w.addTensor(gguf, shape, values, type);
    }

    /**
     * RoPE scaling keys. llama3 needs none (the factors are the rope_freqs tensor); linear scaling writes
     * {@code rope.scaling.type} and {@code rope.scaling.factor} as the reference does; other kinds (yarn, dynamic,
     * longrope) are refused rather than converted into a model that silently runs with the wrong positions.
     */
    private static void ropeScalingKeys(Path configFile, JsonNode c, String arch, GgufWriter w) {
        String type = HfRopeParameters.type(c);
        if (type == null || type.equals("default") || type.equals("llama3")) return;
        if (type.equals("linear")) {
            w.putString(GgufKeys.ROPE_SCALING_TYPE.of(arch), "linear");
            w.putFloat32(GgufKeys.ROPE_SCALING_FACTOR.of(arch), (float) HfRopeParameters.scaling(c).path("factor").asDouble(1.0));
            return;
        }
        if (type.equals("yarn")) {
            // convert_hf_to_gguf.py TextModel.set_gguf_parameters: type, factor, original context, betas. llama.cpp scales
            // cos/sin by yarn_attn_factor * (1 + 0.1 ln factor), so an explicit HF attention factor (which replaces
            // get_mscale) is written divided by that, and the file loads back with the same scale.
            RopeScaling.Yarn y;
            try {
                y = HfRopeParameters.yarn(c, 2);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(configFile, e.getMessage());
            }
            if (!y.truncate()) throw new ModelFormatException(configFile, "YaRN with truncate: false has no GGUF key");
            w.putString(GgufKeys.ROPE_SCALING_TYPE.of(arch), "yarn");
            w.putFloat32(GgufKeys.ROPE_SCALING_FACTOR.of(arch), (float) y.factor());
            w.putUint32(GgufKeys.ROPE_SCALING_ORIG_CTX.of(arch), y.originalMaxPositions());
            w.putFloat32(GgufKeys.ROPE_SCALING_YARN_BETA_FAST.of(arch), (float) y.betaFast());
            w.putFloat32(GgufKeys.ROPE_SCALING_YARN_BETA_SLOW.of(arch), (float) y.betaSlow());
            double implied = RopeScaling.Yarn.mscale(y.factor(), 1);
            if (Math.abs(y.attentionFactor() - implied) > 1e-12) {
                w.putFloat32(GgufKeys.ROPE_SCALING_YARN_ATTN_FACTOR.of(arch), (float) (y.attentionFactor() / implied));
            }
            return;
        }
        throw new ModelFormatException(configFile, "unsupported rope scaling type '" + type + "' (supported: llama3, linear, yarn)");
    }

    private static int requireInt(Path configFile, JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
            throw new ModelFormatException(configFile, "needs a positive integer \"" + key + "\", got " + v);
        }
        return v.asInt();
    }
}
