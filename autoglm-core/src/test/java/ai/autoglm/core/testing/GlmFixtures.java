package ai.autoglm.core.testing;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.tensor.GgmlType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small random-weight GLM models, one set of weights written in every layout the GLM family ships in:
 * <ul>
 *   <li>{@link Layout#CHATGLM_REMOTE}: THUDM's remote-code {@code ChatGLMModel} (chatglm3-6b, glm-4-9b-chat;
 *       modeling_chatglm.py): {@code transformer.encoder.layers.N.self_attention.query_key_value} (rows q|k|v) and
 *       {@code mlp.dense_h_to_4h} (rows gate|up), config {@code model_type: chatglm};</li>
 *   <li>{@link Layout#GLM_HF}: transformers {@code GlmForCausalLM} (glm-4-9b-chat-hf; models/glm/modeling_glm.py);</li>
 *   <li>{@link Layout#GLM4_HF}: transformers {@code Glm4ForCausalLM} (GLM-4-0414; models/glm4/modeling_glm4.py),
 *       which adds {@code post_self_attn_layernorm} and {@code post_mlp_layernorm};</li>
 *   <li>GGUF as llama.cpp names them ({@code chatglm} from the first two, {@code glm4} from the third), written here
 *       from the same weights without going through the converter.</li>
 * </ul>
 * The vocabulary is the byte-level BPE of {@link ModelFixtures} followed by GLM-4's special tokens in GLM-4's order
 * ({@code <|endoftext|>} 151329 ... {@code <|observation|>} 151338 in the real vocabulary), and the embedding is padded
 * past the tokenizer as {@code padded_vocab_size} pads it.
 */
public final class GlmFixtures {
    private GlmFixtures() {
    }

    public enum Layout { CHATGLM_REMOTE, GLM_HF, GLM4_HF }

    /** GLM-4's special tokens, in their id order (glm-4-9b-chat tokenizer_config.json added_tokens_decoder). */
    public static final List<String> SPECIALS = List.of("<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
            "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>");
    public static final int ENDOFTEXT_ID = ModelFixtures.FIRST_SPECIAL;
    public static final int GMASK_ID = ModelFixtures.FIRST_SPECIAL + 2;
    public static final int SOP_ID = ModelFixtures.FIRST_SPECIAL + 4;
    public static final int USER_ID = ModelFixtures.FIRST_SPECIAL + 7;
    public static final int ASSISTANT_ID = ModelFixtures.FIRST_SPECIAL + 8;
    public static final int OBSERVATION_ID = ModelFixtures.FIRST_SPECIAL + 9;
    /** Tokens the tokenizer knows. */
    public static final int TOKENIZER_SIZE = ModelFixtures.FIRST_SPECIAL + SPECIALS.size();
    /** A GLM-4-style chat template (prefix {@code [gMASK]<sop>}, role tokens, generation prompt). */
    public static final String CHAT_TEMPLATE = "[gMASK]<sop>{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    /**
     * What to generate. Rotary covers the first half of each head ({@code rotaryDim = headDim / 2}), base
     * {@code 10000 * ropeRatio} (the remote code's rope_ratio; the -hf configs carry it as rope_theta).
     */
    public record Spec(String name, int dim, int layers, int heads, int kvHeads, int headDim, int ffn, int context,
                       float eps, double ropeRatio, boolean qkvBias, int paddedVocab, boolean postNorms, long seed) {
        public int qDim() {
            return heads * headDim;
        }

        public int kvDim() {
            return kvHeads * headDim;
        }

        public int rotaryDim() {
            return headDim / 2;
        }

        public double ropeTheta() {
            return 10000.0 * ropeRatio;
        }

        public Spec withSeed(long seed) {
            return new Spec(name, dim, layers, heads, kvHeads, headDim, ffn, context, eps, ropeRatio, qkvBias, paddedVocab, postNorms, seed);
        }
    }

    /** ChatGLM3-6B's shape, scaled down: multi-query attention with 2 groups, q/k/v bias, eps 1e-5, rope_ratio 50 (as chatglm3-6b-32k). */
    public static Spec chatglm3() {
        return new Spec("chatglm3", 64, 2, 8, 2, 8, 96, 256, 1e-5f, 50.0, true, TOKENIZER_SIZE + 10, false, 71);
    }

    /** GLM-4-9B's shape, scaled down: 2 kv groups, head 16 (rotary 8), q/k/v bias, eps 1.5625e-7, rope_ratio 500. */
    public static Spec glm4_9b() {
        return new Spec("glm-4-9b", 64, 2, 4, 2, 16, 96, 256, 1.5625e-7f, 500.0, true, TOKENIZER_SIZE + 10, false, 72);
    }

    /** GLM-4-0414's shape, scaled down: sandwich norms, no q/k/v bias, theta 10000. */
    public static Spec glm4_0414() {
        return new Spec("glm-4-0414", 64, 2, 4, 2, 16, 96, 256, 1e-5f, 1.0, false, TOKENIZER_SIZE + 10, true, 73);
    }

    // ------------------------------------------------------------------------------------- weights

    /** The weights of one block, {@code [out][in]} row-major (torch.nn.Linear). */
    public record Block(float[] attnNorm, float[] q, float[] k, float[] v, float[] bq, float[] bk, float[] bv, float[] o,
                        float[] postAttnNorm, float[] ffnNorm, float[] gate, float[] up, float[] down, float[] postMlpNorm) {
    }

    /** The ground truth: the same numbers every layout is written from. */
    public record Weights(float[] embedding, List<Block> blocks, float[] finalNorm, float[] output) {
    }

    public static Weights weights(Spec s) {
        Random r = new Random(s.seed());
        int d = s.dim();
        float[] emb = gaussian(r, s.paddedVocab() * d, 1.0);
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < s.layers(); l++) {
            double in = 1 / Math.sqrt(d);
            blocks.add(new Block(around1(r, d),
                    gaussian(r, s.qDim() * d, in), gaussian(r, s.kvDim() * d, in), gaussian(r, s.kvDim() * d, in),
                    s.qkvBias() ? gaussian(r, s.qDim(), 0.5) : null, s.qkvBias() ? gaussian(r, s.kvDim(), 0.5) : null,
                    s.qkvBias() ? gaussian(r, s.kvDim(), 0.5) : null,
                    gaussian(r, d * s.qDim(), 1 / Math.sqrt(s.qDim())),
                    s.postNorms() ? around1(r, d) : null, around1(r, d),
                    gaussian(r, s.ffn() * d, in), gaussian(r, s.ffn() * d, in), gaussian(r, d * s.ffn(), 1 / Math.sqrt(s.ffn())),
                    s.postNorms() ? around1(r, d) : null));
        }
        return new Weights(emb, blocks, around1(r, d), gaussian(r, s.paddedVocab() * d, 1 / Math.sqrt(d)));
    }

    /** A named tensor with its shape in HF order ({@code [out][in]}). */
    public record Named(float[] values, long[] shape) {
    }

    /** The weights under the HF names of {@code layout}, in HF shape order. */
    public static Map<String, Named> hfTensors(Spec s, Layout layout, Weights w) {
        Map<String, Named> m = new LinkedHashMap<>();
        int d = s.dim(), qkvRows = s.qDim() + 2 * s.kvDim();
        if (layout == Layout.CHATGLM_REMOTE) {
            m.put("transformer.embedding.word_embeddings.weight", new Named(w.embedding(), shape(s.paddedVocab(), d)));
            for (int l = 0; l < s.layers(); l++) {
                Block b = w.blocks().get(l);
                String p = "transformer.encoder.layers." + l + ".";
                m.put(p + "input_layernorm.weight", new Named(b.attnNorm(), shape(d)));
                m.put(p + "self_attention.query_key_value.weight", new Named(concat(b.q(), b.k(), b.v()), shape(qkvRows, d)));
                if (s.qkvBias()) m.put(p + "self_attention.query_key_value.bias", new Named(concat(b.bq(), b.bk(), b.bv()), shape(qkvRows)));
                m.put(p + "self_attention.dense.weight", new Named(b.o(), shape(d, s.qDim())));
                m.put(p + "post_attention_layernorm.weight", new Named(b.ffnNorm(), shape(d)));
                m.put(p + "mlp.dense_h_to_4h.weight", new Named(concat(b.gate(), b.up()), shape(2 * s.ffn(), d)));
                m.put(p + "mlp.dense_4h_to_h.weight", new Named(b.down(), shape(d, s.ffn())));
            }
            m.put("transformer.encoder.final_layernorm.weight", new Named(w.finalNorm(), shape(d)));
            // the remote checkpoints also hold the rotary cache buffer, which loaders and converters skip
            m.put("transformer.rotary_pos_emb.inv_freq", new Named(new float[s.rotaryDim() / 2], shape(s.rotaryDim() / 2)));
            m.put("transformer.output_layer.weight", new Named(w.output(), shape(s.paddedVocab(), d)));
            return m;
        }
        m.put("model.embed_tokens.weight", new Named(w.embedding(), shape(s.paddedVocab(), d)));
        for (int l = 0; l < s.layers(); l++) {
            Block b = w.blocks().get(l);
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new Named(b.attnNorm(), shape(d)));
            m.put(p + "self_attn.q_proj.weight", new Named(b.q(), shape(s.qDim(), d)));
            m.put(p + "self_attn.k_proj.weight", new Named(b.k(), shape(s.kvDim(), d)));
            m.put(p + "self_attn.v_proj.weight", new Named(b.v(), shape(s.kvDim(), d)));
            if (s.qkvBias()) {
                m.put(p + "self_attn.q_proj.bias", new Named(b.bq(), shape(s.qDim())));
                m.put(p + "self_attn.k_proj.bias", new Named(b.bk(), shape(s.kvDim())));
                m.put(p + "self_attn.v_proj.bias", new Named(b.bv(), shape(s.kvDim())));
            }
            m.put(p + "self_attn.o_proj.weight", new Named(b.o(), shape(d, s.qDim())));
            if (layout == Layout.GLM4_HF) m.put(p + "post_self_attn_layernorm.weight", new Named(b.postAttnNorm(), shape(d)));
            m.put(p + "post_attention_layernorm.weight", new Named(b.ffnNorm(), shape(d)));
            m.put(p + "mlp.gate_up_proj.weight", new Named(concat(b.gate(), b.up()), shape(2 * s.ffn(), d)));
            m.put(p + "mlp.down_proj.weight", new Named(b.down(), shape(d, s.ffn())));
            if (layout == Layout.GLM4_HF) m.put(p + "post_mlp_layernorm.weight", new Named(b.postMlpNorm(), shape(d)));
        }
        m.put("model.norm.weight", new Named(w.finalNorm(), shape(d)));
        m.put("lm_head.weight", new Named(w.output(), shape(s.paddedVocab(), d)));
        return m;
    }

    /**
     * The GGUF tensors llama.cpp's converter writes for the HF checkpoint of {@code layout} (GGUF names, GGUF shape order):
     * fused attn_qkv from the remote code, split attn_q/k/v from the -hf layouts, fused ffn_up (gate|up) always,
     * post_attention_norm / post_ffw_norm for glm4. Nothing permuted: chatglm and glm4 use NORM rope on the HF rows.
     */
    public static Map<String, Named> ggufTensors(Spec s, Layout layout, Weights w) {
        Map<String, Named> m = new LinkedHashMap<>();
        int d = s.dim(), qkvRows = s.qDim() + 2 * s.kvDim();
        m.put("token_embd.weight", new Named(w.embedding(), shape(d, s.paddedVocab())));
        for (int l = 0; l < s.layers(); l++) {
            Block b = w.blocks().get(l);
            String p = "blk." + l + ".";
            m.put(p + "attn_norm.weight", new Named(b.attnNorm(), shape(d)));
            if (layout == Layout.CHATGLM_REMOTE) {
                m.put(p + "attn_qkv.weight", new Named(concat(b.q(), b.k(), b.v()), shape(d, qkvRows)));
                if (s.qkvBias()) m.put(p + "attn_qkv.bias", new Named(concat(b.bq(), b.bk(), b.bv()), shape(qkvRows)));
            } else {
                m.put(p + "attn_q.weight", new Named(b.q(), shape(d, s.qDim())));
                m.put(p + "attn_k.weight", new Named(b.k(), shape(d, s.kvDim())));
                m.put(p + "attn_v.weight", new Named(b.v(), shape(d, s.kvDim())));
                if (s.qkvBias()) {
                    m.put(p + "attn_q.bias", new Named(b.bq(), shape(s.qDim())));
                    m.put(p + "attn_k.bias", new Named(b.bk(), shape(s.kvDim())));
                    m.put(p + "attn_v.bias", new Named(b.bv(), shape(s.kvDim())));
                }
            }
            m.put(p + "attn_output.weight", new Named(b.o(), shape(s.qDim(), d)));
            if (layout == Layout.GLM4_HF) m.put(p + "post_attention_norm.weight", new Named(b.postAttnNorm(), shape(d)));
            m.put(p + "ffn_norm.weight", new Named(b.ffnNorm(), shape(d)));
            m.put(p + "ffn_up.weight", new Named(concat(b.gate(), b.up()), shape(d, 2 * s.ffn())));
            m.put(p + "ffn_down.weight", new Named(b.down(), shape(s.ffn(), d)));
            if (layout == Layout.GLM4_HF) m.put(p + "post_ffw_norm.weight", new Named(b.postMlpNorm(), shape(d)));
        }
        m.put("output_norm.weight", new Named(w.finalNorm(), shape(d)));
        m.put("output.weight", new Named(w.output(), shape(d, s.paddedVocab())));
        return m;
    }

    // ------------------------------------------------------------------------------------ configs

    /** config.json of {@code layout}, with the keys the real checkpoints carry. */
    public static ObjectNode hfConfig(Spec s, Layout layout) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        if (layout == Layout.CHATGLM_REMOTE) {
            // glm-4-9b-chat / chatglm3-6b config.json (configuration_chatglm.py ChatGLMConfig)
            c.putArray("architectures").add("ChatGLMModel");
            c.put("model_type", "chatglm");
            ObjectNode autoMap = c.putObject("auto_map");
            autoMap.put("AutoConfig", "configuration_chatglm.ChatGLMConfig");
            autoMap.put("AutoModelForCausalLM", "modeling_chatglm.ChatGLMForConditionalGeneration");
            c.put("add_bias_linear", false);
            c.put("add_qkv_bias", s.qkvBias());
            c.put("apply_query_key_layer_scaling", true);
            c.put("apply_residual_connection_post_layernorm", false);
            c.put("attention_softmax_in_fp32", true);
            c.put("ffn_hidden_size", s.ffn());
            c.put("hidden_size", s.dim());
            c.put("kv_channels", s.headDim());
            c.put("layernorm_epsilon", s.eps());
            c.put("multi_query_attention", true);
            c.put("multi_query_group_num", s.kvHeads());
            c.put("num_attention_heads", s.heads());
            c.put("num_layers", s.layers());
            c.put("original_rope", true);
            c.put("padded_vocab_size", s.paddedVocab());
            c.put("post_layer_norm", true);
            c.put("rmsnorm", true);
            c.put("rope_ratio", s.ropeRatio());
            c.put("seq_length", s.context());
            c.put("tie_word_embeddings", false);
        } else {
            // glm-4-9b-chat-hf / GLM-4-9B-0414 config.json (configuration_glm.py / configuration_glm4.py)
            boolean glm4 = layout == Layout.GLM4_HF;
            c.putArray("architectures").add(glm4 ? "Glm4ForCausalLM" : "GlmForCausalLM");
            c.put("model_type", glm4 ? "glm4" : "glm");
            c.put("attention_bias", s.qkvBias());
            c.put("head_dim", s.headDim());
            c.put("hidden_act", "silu");
            c.put("hidden_size", s.dim());
            c.put("intermediate_size", s.ffn());
            c.put("max_position_embeddings", s.context());
            c.put("num_attention_heads", s.heads());
            c.put("num_hidden_layers", s.layers());
            c.put("num_key_value_heads", s.kvHeads());
            c.put("partial_rotary_factor", 0.5);
            c.put("rms_norm_eps", s.eps());
            c.put("rope_theta", s.ropeTheta());
            c.put("tie_word_embeddings", false);
            c.put("vocab_size", s.paddedVocab());
        }
        c.putArray("eos_token_id").add(ENDOFTEXT_ID).add(USER_ID).add(OBSERVATION_ID);
        c.put("pad_token_id", ENDOFTEXT_ID);
        c.put("torch_dtype", "float32");
        return c;
    }

    /** tokenizer.json: the fixture byte-level BPE with Llama 3's split regex (which is GLM-4's) and GLM-4's specials. */
    public static ObjectNode tokenizerJson() {
        return ModelFixtures.byteLevelTokenizerJson(ModelFixtures.LLAMA3_REGEX, SPECIALS);
    }

    public static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("eos_token", "<|endoftext|>");
        c.put("pad_token", "<|endoftext|>");
        c.put("model_max_length", s.context());
        c.put("chat_template", CHAT_TEMPLATE);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    /**
     * GGUF metadata as convert_hf_to_gguf.py writes it: ChatGLMModel.set_gguf_parameters for chatglm (context from
     * seq_length, rope.dimension_count = half the head, freq_base 10000 * rope_ratio, add_bos_token false), Glm4Model
     * (TextModel keys + key/value length from head_dim + rope.dimension_count) for glm4; the gpt2 vocabulary padded with
     * [PADi] to the embedding rows, pre "glm4", and eos/unk {@code <|endoftext|>}, eot {@code <|user|>}.
     */
    public static LinkedHashMap<String, GgufValue> ggufMetadata(Spec s, Layout layout) {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        String a = layout == Layout.GLM4_HF ? "glm4" : "chatglm";
        m.put("general.architecture", GgufValue.string(a));
        m.put("general.name", GgufValue.string("fixture-" + s.name()));
        m.put(a + ".context_length", GgufValue.uint32(s.context()));
        m.put(a + ".embedding_length", GgufValue.uint32(s.dim()));
        m.put(a + ".feed_forward_length", GgufValue.uint32(s.ffn()));
        m.put(a + ".block_count", GgufValue.uint32(s.layers()));
        m.put(a + ".attention.head_count", GgufValue.uint32(s.heads()));
        m.put(a + ".attention.head_count_kv", GgufValue.uint32(s.kvHeads()));
        m.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.float32(s.eps()));
        m.put(a + ".rope.freq_base", GgufValue.float32((float) s.ropeTheta()));
        // Glm4Model (TextModel) writes key/value length from config.json head_dim; ChatGLMModel never does (the converter
        // here adds them only when the head is not hidden/heads).
        if (layout == Layout.GLM4_HF || s.headDim() != s.dim() / s.heads()) {
            m.put(a + ".attention.key_length", GgufValue.uint32(s.headDim()));
            m.put(a + ".attention.value_length", GgufValue.uint32(s.headDim()));
        }
        m.put(a + ".rope.dimension_count", GgufValue.uint32(s.rotaryDim()));
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("glm4"));
        List<String> tokens = new ArrayList<>(ModelFixtures.TOKENS.subList(0, ModelFixtures.FIRST_SPECIAL));
        tokens.addAll(SPECIALS);
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) types.add(i >= ModelFixtures.FIRST_SPECIAL ? 3 : 1);
        for (int i = tokens.size(); i < s.paddedVocab(); i++) {
            tokens.add("[PAD" + i + "]");
            types.add(5);
        }
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, ModelFixtures.MERGES));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(ENDOFTEXT_ID));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(ENDOFTEXT_ID));
        m.put("tokenizer.ggml.eot_token_id", GgufValue.uint32(USER_ID));
        m.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(ENDOFTEXT_ID));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        m.put("tokenizer.chat_template", GgufValue.string(CHAT_TEMPLATE));
        return m;
    }

    // ------------------------------------------------------------------------------------ writers

    /** Writes the HF directory of {@code layout} (config.json, model.safetensors, tokenizer files). Returns {@code dir}. */
    public static Path writeHf(Spec s, Layout layout, Path dir) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter st = new SafetensorsWriter();
            for (var e : hfTensors(s, layout, weights(s)).entrySet()) st.add(e.getKey(), e.getValue().shape(), "F32", e.getValue().values());
            st.write(dir.resolve("model.safetensors"));
            ObjectMapper om = new ObjectMapper();
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), hfConfig(s, layout));
            om.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson());
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfigJson(s));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the F32 GGUF llama.cpp's converter would make from {@link #writeHf}'s checkpoint of {@code layout}. */
    public static Path writeGguf(Spec s, Layout layout, Path file) {
        GgufWriter g = new GgufWriter();
        ggufMetadata(s, layout).forEach(g::put);
        g.putUint32("general.file_type", 0);
        for (var e : ggufTensors(s, layout, weights(s)).entrySet()) {
            g.addTensor(e.getKey(), e.getValue().shape(), e.getValue().values(), GgmlType.F32);
        }
        g.write(file);
        return file;
    }

    // ------------------------------------------------------------------------------------ helpers

    private static long[] shape(long... dims) {
        return dims;
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
        return v;
    }

    private static float[] around1(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1 + 0.1 * r.nextGaussian());
        return v;
    }
}
