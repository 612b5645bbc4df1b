package ai.autoglm.core.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Where a Hugging Face {@code config.json} keeps each hyper-parameter of one layout, and its default when absent: the
 * transformers configuration class's own default (configuration_llama.py, configuration_qwen2.py,
 * configuration_glm.py, configuration_glm4.py) or, for the remote-code ChatGLM config, THUDM's
 * configuration_chatglm.py. Both readers of config.json use it: {@link ModelConfig#fromHfConfig} (loading a directory)
 * and the GGUF converter, so a directory loaded directly and the same directory converted get the same numbers.
 *
 * @param layers        block count (required)
 * @param kvHeads       key/value heads; default null means "as many as the query heads"
 * @param headDim       per-head size; default null means {@code hidden_size / num_attention_heads}
 * @param ffn           MLP width (required)
 * @param vocab         embedding rows (required)
 * @param context       trained context length; default null means required
 * @param rmsEps        RMSNorm epsilon
 * @param partialRotary the fraction of each head that rotates when {@code partial_rotary_factor} is absent
 * @param qkvBias       whether q/k/v carry a bias (its key and default)
 * @param remoteCode    the config class is remote code ({@code trust_remote_code}) with keys of its own beyond these:
 *                      read, never written by the exporter
 */
public record HfConfigKeys(Key layers, Key kvHeads, Key headDim, Key ffn, Key vocab, Key context, Key rmsEps,
                           double partialRotary, Key qkvBias, boolean remoteCode) {

    /**
     * One hyper-parameter: the keys tried in order (the first present wins) and the default when none is present
     * ({@code null}: see the component's description in {@link HfConfigKeys}).
     */
    public record Key(List<String> names, Object def) {
        public static Key of(Object def, String... names) {
            return new Key(List.of(names), def);
        }

        /** The first of {@link #names} set (not null) in {@code config}, or null. */
        public String present(JsonNode config) {
            for (String n : names) if (config.hasNonNull(n)) return n;
            return null;
        }

        /** The default as an int, or null. */
        public Integer intDefault() {
            return def == null ? null : ((Number) def).intValue();
        }

        /** The default as a double, or null. */
        public Double doubleDefault() {
            return def == null ? null : ((Number) def).doubleValue();
        }
    }

    /** transformers LlamaConfig: 2048 positions, rms_norm_eps 1e-6, kv heads = heads, no bias unless attention_bias. */
    public static final HfConfigKeys LLAMA = new HfConfigKeys(Key.of(null, "num_hidden_layers"),
            Key.of(null, "num_key_value_heads"), Key.of(null, "head_dim"), Key.of(null, "intermediate_size"),
            Key.of(null, "vocab_size"), Key.of(2048, "max_position_embeddings"), Key.of(1e-6, "rms_norm_eps"),
            1.0, Key.of(false, "attention_bias"), false);

    /** transformers Qwen2Config: LlamaConfig's keys, 32768 positions (q/k/v bias is the architecture's, always on). */
    public static final HfConfigKeys QWEN2 = new HfConfigKeys(LLAMA.layers, LLAMA.kvHeads, LLAMA.headDim, LLAMA.ffn,
            LLAMA.vocab, Key.of(32768, "max_position_embeddings"), LLAMA.rmsEps, 1.0, LLAMA.qkvBias, false);

    /** transformers Qwen3Config: head_dim 128, 32768 positions, rms_norm_eps 1e-6, no bias unless attention_bias. */
    public static final HfConfigKeys QWEN3 = new HfConfigKeys(LLAMA.layers, LLAMA.kvHeads, Key.of(128, "head_dim"), LLAMA.ffn,
            LLAMA.vocab, Key.of(32768, "max_position_embeddings"), LLAMA.rmsEps, 1.0, LLAMA.qkvBias, false);

    /** transformers Qwen3MoeConfig: as Qwen3Config (the MoE keys are {@link MoeConfig#fromHf}'s). */
    public static final HfConfigKeys QWEN3MOE = QWEN3;

    /**
     * transformers Glm4MoeConfig (configuration_glm4_moe.py): 131072 positions, rms_norm_eps 1e-5,
     * partial_rotary_factor 0.5, attention_bias false, head_dim from the config (hidden/heads when absent).
     */
    public static final HfConfigKeys GLM4MOE = new HfConfigKeys(LLAMA.layers, LLAMA.kvHeads, LLAMA.headDim, LLAMA.ffn,
            LLAMA.vocab, Key.of(131072, "max_position_embeddings"), Key.of(1e-5, "rms_norm_eps"), 0.5, LLAMA.qkvBias, false);

    /**
     * transformers GlmConfig / Glm4Config (configuration_glm.py, configuration_glm4.py): head_dim 128, 2 kv heads,
     * q/k/v bias, partial_rotary_factor 0.5, rms_norm_eps 1.5625e-7, 131072 positions.
     */
    public static final HfConfigKeys GLM = new HfConfigKeys(LLAMA.layers, Key.of(2, "num_key_value_heads"),
            Key.of(128, "head_dim"), LLAMA.ffn, LLAMA.vocab, Key.of(131072, "max_position_embeddings"),
            Key.of(1.5625e-7, "rms_norm_eps"), 0.5, Key.of(true, "attention_bias"), false);

    /**
     * THUDM's remote-code ChatGLM config (chatglm3-6b / glm-4-9b-chat configuration_chatglm.py): {@code num_layers},
     * {@code multi_query_group_num} key/value groups, heads of {@code kv_channels} (default hidden/heads),
     * {@code ffn_hidden_size}, {@code padded_vocab_size} embedding rows, {@code seq_length} positions,
     * {@code layernorm_epsilon} 1e-5, rotary on half of each head ({@code RotaryEmbedding(kv_channels // 2)}),
     * {@code add_qkv_bias}.
     */
    public static final HfConfigKeys CHATGLM_REMOTE = new HfConfigKeys(Key.of(null, "num_layers", "num_hidden_layers"),
            Key.of(null, "multi_query_group_num"), Key.of(null, "kv_channels"), Key.of(null, "ffn_hidden_size"),
            Key.of(null, "padded_vocab_size", "vocab_size"), Key.of(null, "seq_length"), Key.of(1e-5, "layernorm_epsilon"),
            0.5, Key.of(false, "add_qkv_bias"), true);
}
