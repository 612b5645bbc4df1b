package ai.autoglm.core.format.gguf;

/**
 * The GGUF metadata keys this project reads and writes, in one place: gguf-py {@code gguf/constants.py} {@code Keys}
 * (the same strings as llama.cpp src/llama-arch.cpp {@code LLM_KV_NAMES}). Per-architecture keys are
 * {@code {arch}.name}; {@link PerArch#of} fills in the architecture. In the format package, not in {@code core.model},
 * because the reader ({@link GgufFile}: {@code general.alignment}) and the tokenizer loaders need them too and the
 * model package already depends on this one.
 */
public final class GgufKeys {
    private GgufKeys() {
    }

    /** A key under the architecture's name, e.g. {@code llama.context_length}. */
    public record PerArch(String name) {
        /** The key for architecture {@code arch}. */
        public String of(String arch) {
            return arch + "." + name;
        }
    }

    // general (constants.py Keys.General)
    public static final String ARCHITECTURE = "general.architecture";
    public static final String TYPE = "general.type";
    public static final String NAME = "general.name";
    public static final String FILE_TYPE = "general.file_type";
    public static final String QUANTIZATION_VERSION = "general.quantization_version";
    public static final String ALIGNMENT = "general.alignment";

    // {arch}.* (constants.py Keys.LLM, Keys.Attention, Keys.Rope)
    public static final PerArch CONTEXT_LENGTH = new PerArch("context_length");
    public static final PerArch EMBEDDING_LENGTH = new PerArch("embedding_length");
    public static final PerArch BLOCK_COUNT = new PerArch("block_count");
    public static final PerArch FEED_FORWARD_LENGTH = new PerArch("feed_forward_length");
    public static final PerArch VOCAB_SIZE = new PerArch("vocab_size");
    public static final PerArch HEAD_COUNT = new PerArch("attention.head_count");
    public static final PerArch HEAD_COUNT_KV = new PerArch("attention.head_count_kv");
    public static final PerArch KEY_LENGTH = new PerArch("attention.key_length");
    public static final PerArch VALUE_LENGTH = new PerArch("attention.value_length");
    public static final PerArch RMS_EPSILON = new PerArch("attention.layer_norm_rms_epsilon");
    public static final PerArch ROPE_DIMENSION_COUNT = new PerArch("rope.dimension_count");
    public static final PerArch ROPE_FREQ_BASE = new PerArch("rope.freq_base");
    public static final PerArch ROPE_SCALING_TYPE = new PerArch("rope.scaling.type");
    public static final PerArch ROPE_SCALING_FACTOR = new PerArch("rope.scaling.factor");
    // YaRN (llama-arch.cpp LLM_KV_ROPE_SCALING_ORIG_CTX_LEN, LLM_KV_ROPE_SCALING_YARN_*)
    public static final PerArch ROPE_SCALING_ORIG_CTX = new PerArch("rope.scaling.original_context_length");
    public static final PerArch ROPE_SCALING_YARN_EXT_FACTOR = new PerArch("rope.scaling.yarn_ext_factor");
    public static final PerArch ROPE_SCALING_YARN_ATTN_FACTOR = new PerArch("rope.scaling.yarn_attn_factor");
    public static final PerArch ROPE_SCALING_YARN_BETA_FAST = new PerArch("rope.scaling.yarn_beta_fast");
    public static final PerArch ROPE_SCALING_YARN_BETA_SLOW = new PerArch("rope.scaling.yarn_beta_slow");

    // mixture of experts (constants.py Keys.LLM; llama-arch.cpp LLM_KV_EXPERT_*, LLM_KV_LEADING_DENSE_BLOCK_COUNT, LLM_KV_NEXTN_PREDICT_LAYERS)
    public static final PerArch EXPERT_COUNT = new PerArch("expert_count");
    public static final PerArch EXPERT_USED_COUNT = new PerArch("expert_used_count");
    public static final PerArch EXPERT_SHARED_COUNT = new PerArch("expert_shared_count");
    public static final PerArch EXPERT_FEED_FORWARD_LENGTH = new PerArch("expert_feed_forward_length");
    public static final PerArch EXPERT_SHARED_FEED_FORWARD_LENGTH = new PerArch("expert_shared_feed_forward_length");
    public static final PerArch LEADING_DENSE_BLOCK_COUNT = new PerArch("leading_dense_block_count");
    public static final PerArch EXPERT_WEIGHTS_SCALE = new PerArch("expert_weights_scale");
    public static final PerArch EXPERT_WEIGHTS_NORM = new PerArch("expert_weights_norm");
    /** llama_expert_gating_func_type: 1 softmax, 2 sigmoid (gguf-py ExpertGatingFuncType). */
    public static final PerArch EXPERT_GATING_FUNC = new PerArch("expert_gating_func");
    public static final PerArch EXPERT_GROUP_COUNT = new PerArch("expert_group_count");
    public static final PerArch EXPERT_GROUP_USED_COUNT = new PerArch("expert_group_used_count");
    public static final PerArch NEXTN_PREDICT_LAYERS = new PerArch("nextn_predict_layers");

    // tokenizer (constants.py Keys.Tokenizer)
    public static final String TOKENIZER_MODEL = "tokenizer.ggml.model";
    public static final String TOKENIZER_PRE = "tokenizer.ggml.pre";
    public static final String TOKENIZER_TOKENS = "tokenizer.ggml.tokens";
    public static final String TOKENIZER_SCORES = "tokenizer.ggml.scores";
    public static final String TOKENIZER_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String TOKENIZER_MERGES = "tokenizer.ggml.merges";
    public static final String TOKENIZER_BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String TOKENIZER_EOS_ID = "tokenizer.ggml.eos_token_id";
    public static final String TOKENIZER_EOT_ID = "tokenizer.ggml.eot_token_id";
    public static final String TOKENIZER_UNK_ID = "tokenizer.ggml.unknown_token_id";
    public static final String TOKENIZER_SEP_ID = "tokenizer.ggml.seperator_token_id"; // sic, as gguf-py spells it
    public static final String TOKENIZER_PAD_ID = "tokenizer.ggml.padding_token_id";
    public static final String TOKENIZER_CLS_ID = "tokenizer.ggml.cls_token_id";
    public static final String TOKENIZER_MASK_ID = "tokenizer.ggml.mask_token_id";
    public static final String TOKENIZER_ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String TOKENIZER_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    public static final String CHAT_TEMPLATE = "tokenizer.chat_template";
}
