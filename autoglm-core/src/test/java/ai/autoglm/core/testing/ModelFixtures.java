package ai.autoglm.core.testing;

import ai.autoglm.core.tokenizer.ByteLevelBpeJson;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
 * Small random-weight models for tests and benchmarks, of every supported architecture, in the HF layout
 * (config.json + model.safetensors + tokenizer.json) and the GGUF layout (as llama.cpp's
 * convert_hf_to_gguf.py writes it: renamed tensors, llama q/k rows permuted for NORMAL rope, Llama 3.1
 * scaling as {@code rope_freqs.weight}) from the same weights. The ground truth is {@link #hfWeights}: HF
 * names, HF shapes {@code [out][in]} row-major. Deterministic for a given {@link Spec#seed()}.
 *
 * <p>The tokenizer is tiny but real: byte-level BPE (GPT-2 byte-to-unicode alphabet) with the 256 byte
 * tokens, a few merges and four special tokens, so loaders and the CLI work end to end.
 */
public final class ModelFixtures {
    private ModelFixtures() {
    }

    /** Llama 3.1 rope scaling parameters (HF {@code rope_scaling} with {@code rope_type: llama3}). */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    }

    /**
     * What to generate.
     *
     * @param arch    "llama" or "qwen2"
     * @param qkvBias q/k/v biases (always for qwen2)
     */
    public record Spec(String arch, int dim, int layers, int heads, int kvHeads, int ffn, int context, float rmsEps,
                       double ropeTheta, boolean tiedEmbeddings, boolean qkvBias, Llama3Scaling llama3, long seed) {
        public int headDim() {
            return dim / heads;
        }

        public int vocab() {
            return VOCAB_SIZE;
        }

        public Spec withDims(int dim, int heads, int kvHeads, int ffn) {
            return new Spec(arch, dim, layers, heads, kvHeads, ffn, context, rmsEps, ropeTheta, tiedEmbeddings, qkvBias, llama3, seed);
        }

        public Spec withSeed(long seed) {
            return new Spec(arch, dim, layers, heads, kvHeads, ffn, context, rmsEps, ropeTheta, tiedEmbeddings, qkvBias, llama3, seed);
        }

        public Spec withContext(int context) {
            return new Spec(arch, dim, layers, heads, kvHeads, ffn, context, rmsEps, ropeTheta, tiedEmbeddings, qkvBias, llama3, seed);
        }

        public Spec withTiedEmbeddings(boolean tied) {
            return new Spec(arch, dim, layers, heads, kvHeads, ffn, context, rmsEps, ropeTheta, tied, qkvBias, llama3, seed);
        }

        public Spec withLlama3(Llama3Scaling scaling) {
            return new Spec(arch, dim, layers, heads, kvHeads, ffn, context, rmsEps, ropeTheta, tiedEmbeddings, qkvBias, scaling, seed);
        }
    }

    /** Llama: dim 64, 2 layers, 4 heads over 2 KV heads (GQA), ffn 160, untied. */
    public static Spec llama() {
        return new Spec("llama", 64, 2, 4, 2, 160, 128, 1e-5f, 10000.0, false, false, null, 42);
    }

    /** Llama with tied embeddings (as Llama 3.2 1B/3B). */
    public static Spec llamaTied() {
        return llama().withTiedEmbeddings(true).withSeed(43);
    }

    /**
     * Llama with Llama 3.1 rope scaling. With head dim 16 and theta 10000 the wavelengths run 6.3 .. 19869;
     * original 64 positions with low 1 / high 4 puts pairs in all three regimes (kept, blended, divided).
     */
    public static Spec llama3Scaled() {
        return llama().withLlama3(new Llama3Scaling(8.0, 1.0, 4.0, 64)).withSeed(44);
    }

    /** Qwen2: q/k/v bias, NEOX rope, theta 1e6, tied embeddings like Qwen2-0.5B. */
    public static Spec qwen2() {
        return new Spec("qwen2", 64, 2, 4, 2, 160, 128, 1e-6f, 1000000.0, true, true, null, 45);
    }

    // ------------------------------------------------------------------------------------- weights

    /** The ground-truth weights under HF names, HF shapes ({@code [out][in]} row-major). */
    public static Map<String, float[]> hfWeights(Spec s) {
        Random r = new Random(s.seed());
        Map<String, float[]> w = new LinkedHashMap<>();
        int hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd;
        // Matrices ~ N(0, 1/in) keep activations O(1) so attention and logits are far from trivial.
        w.put("model.embed_tokens.weight", gaussian(r, s.vocab() * s.dim(), 1.0));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", around1(r, s.dim()));
            w.put(p + "self_attn.q_proj.weight", gaussian(r, q * s.dim(), 1 / Math.sqrt(s.dim())));
            w.put(p + "self_attn.k_proj.weight", gaussian(r, kv * s.dim(), 1 / Math.sqrt(s.dim())));
            w.put(p + "self_attn.v_proj.weight", gaussian(r, kv * s.dim(), 1 / Math.sqrt(s.dim())));
            if (s.qkvBias()) {
                w.put(p + "self_attn.q_proj.bias", gaussian(r, q, 0.5));
                w.put(p + "self_attn.k_proj.bias", gaussian(r, kv, 0.5));
                w.put(p + "self_attn.v_proj.bias", gaussian(r, kv, 0.5));
            }
            w.put(p + "self_attn.o_proj.weight", gaussian(r, s.dim() * q, 1 / Math.sqrt(q)));
            w.put(p + "post_attention_layernorm.weight", around1(r, s.dim()));
            w.put(p + "mlp.gate_proj.weight", gaussian(r, s.ffn() * s.dim(), 1 / Math.sqrt(s.dim())));
            w.put(p + "mlp.up_proj.weight", gaussian(r, s.ffn() * s.dim(), 1 / Math.sqrt(s.dim())));
            w.put(p + "mlp.down_proj.weight", gaussian(r, s.dim() * s.ffn(), 1 / Math.sqrt(s.ffn())));
        }
        w.put("model.norm.weight", around1(r, s.dim()));
        if (!s.tiedEmbeddings()) w.put("lm_head.weight", gaussian(r, s.vocab() * s.dim(), 1 / Math.sqrt(s.dim())));
        return w;
    }

    /** HF shape of a ground-truth tensor. */
    public static long[] hfShape(Spec s, String hfName) {
        int hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd;
        if (hfName.endsWith("norm.weight") || hfName.endsWith(".bias")) {
            if (hfName.contains("q_proj")) return new long[]{q};
            if (hfName.contains("k_proj") || hfName.contains("v_proj")) return new long[]{kv};
            return new long[]{s.dim()};
        }
        if (hfName.equals("model.embed_tokens.weight") || hfName.equals("lm_head.weight")) return new long[]{s.vocab(), s.dim()};
        if (hfName.contains("q_proj")) return new long[]{q, s.dim()};
        if (hfName.contains("k_proj") || hfName.contains("v_proj")) return new long[]{kv, s.dim()};
        if (hfName.contains("o_proj")) return new long[]{s.dim(), q};
        if (hfName.contains("gate_proj") || hfName.contains("up_proj")) return new long[]{s.ffn(), s.dim()};
        if (hfName.contains("down_proj")) return new long[]{s.dim(), s.ffn()};
        throw new IllegalArgumentException(hfName);
    }

    /** The GGUF name of an HF tensor (convert_hf_to_gguf.py / gguf-py tensor_mapping.py for llama and qwen2). */
    public static String ggufName(String hfName) {
        switch (hfName) {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
            default:
        }
        String rest = hfName.substring("model.layers.".length());
        int dot = rest.indexOf('.');
        String layer = rest.substring(0, dot), tail = rest.substring(dot + 1);
        String role = switch (tail.substring(0, tail.lastIndexOf('.'))) {
            case "input_layernorm" -> "attn_norm";
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj" -> "attn_output";
            case "post_attention_layernorm" -> "ffn_norm";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj" -> "ffn_up";
            case "mlp.down_proj" -> "ffn_down";
            default -> throw new IllegalArgumentException(hfName);
        };
        return "blk." + layer + "." + role + tail.substring(tail.lastIndexOf('.'));
    }

    /**
     * The GGUF tensors (name to values, in GGUF layout) of these HF weights: renamed, and for llama the q/k
     * rows of each head permuted so HF's rotate-half pairs (j, j+hd/2) become adjacent (2j, 2j+1)
     * (convert_hf_to_gguf.py LlamaModel.permute); plus {@code rope_freqs.weight} for Llama 3.1 scaling.
     */
    public static Map<String, float[]> ggufTensors(Spec s, Map<String, float[]> hf) {
        Map<String, float[]> out = new LinkedHashMap<>();
        boolean permute = s.arch().equals("llama");
        for (var e : hf.entrySet()) {
            String name = e.getKey();
            float[] v = e.getValue();
            if (permute && name.endsWith("q_proj.weight")) v = permuteRows(v, s.heads(), s.headDim(), s.dim(), false);
            if (permute && name.endsWith("k_proj.weight")) v = permuteRows(v, s.kvHeads(), s.headDim(), s.dim(), false);
            if (permute && name.endsWith("q_proj.bias")) v = permuteRows(v, s.heads(), s.headDim(), 1, false);
            if (permute && name.endsWith("k_proj.bias")) v = permuteRows(v, s.kvHeads(), s.headDim(), 1, false);
            out.put(ggufName(name), v);
        }
        if (s.llama3() != null) out.put("rope_freqs.weight", llama3FreqFactors(s));
        return out;
    }

    /** GGUF shape (innermost first) of a GGUF tensor of this spec. */
    public static long[] ggufShape(Spec s, String ggufName, float[] values) {
        if (ggufName.equals("rope_freqs.weight")) return new long[]{values.length};
        String hf = hfNameOf(s, ggufName);
        long[] h = hfShape(s, hf);
        long[] g = new long[h.length];
        for (int i = 0; i < h.length; i++) g[i] = h[h.length - 1 - i];
        return g;
    }

    /** The HF tensor names of this spec, in {@link #hfWeights} order. */
    public static List<String> hfNames(Spec s) {
        List<String> names = new ArrayList<>();
        names.add("model.embed_tokens.weight");
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            names.add(p + "input_layernorm.weight");
            for (String m : List.of("q", "k", "v")) names.add(p + "self_attn." + m + "_proj.weight");
            if (s.qkvBias()) for (String m : List.of("q", "k", "v")) names.add(p + "self_attn." + m + "_proj.bias");
            names.add(p + "self_attn.o_proj.weight");
            names.add(p + "post_attention_layernorm.weight");
            for (String m : List.of("gate", "up", "down")) names.add(p + "mlp." + m + "_proj.weight");
        }
        names.add("model.norm.weight");
        if (!s.tiedEmbeddings()) names.add("lm_head.weight");
        return names;
    }

    private static String hfNameOf(Spec s, String ggufName) {
        for (String hf : hfNames(s)) {
            if (ggufName(hf).equals(ggufName)) return hf;
        }
        throw new IllegalArgumentException("unknown GGUF tensor " + ggufName);
    }

    /**
     * Row permutation of one q/k matrix: within each head of {@code hd} rows, GGUF row {@code 2j + t} is HF
     * row {@code t*hd/2 + j}. {@code inverse} maps GGUF rows back to HF rows.
     */
    public static float[] permuteRows(float[] m, int heads, int hd, int rowLen, boolean inverse) {
        float[] out = new float[m.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < hd / 2; j++) {
                for (int t = 0; t < 2; t++) {
                    int gguf = h * hd + 2 * j + t, hf = h * hd + t * (hd / 2) + j;
                    int from = inverse ? gguf : hf, to = inverse ? hf : gguf;
                    System.arraycopy(m, from * rowLen, out, to * rowLen, rowLen);
                }
            }
        }
        return out;
    }

    /**
     * Per-pair divisors as convert_hf_to_gguf.py LlamaModel.generate_extra_tensors writes them: 1 for short
     * wavelengths, {@code factor} for long ones, {@code 1/((1-smooth)/factor + smooth)} in between.
     */
    public static float[] llama3FreqFactors(Spec s) {
        Llama3Scaling sc = s.llama3();
        int hd = s.headDim();
        float[] f = new float[hd / 2];
        double lowWavelen = sc.originalMaxPositions() / sc.lowFreqFactor();
        double highWavelen = sc.originalMaxPositions() / sc.highFreqFactor();
        for (int i = 0; i < f.length; i++) {
            double freq = 1.0 / Math.pow(s.ropeTheta(), (2.0 * i) / hd);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1f;
            else if (wavelen > lowWavelen) f[i] = (float) sc.factor();
            else {
                double smooth = (sc.originalMaxPositions() / wavelen - sc.lowFreqFactor()) / (sc.highFreqFactor() - sc.lowFreqFactor());
                f[i] = (float) (1 / ((1 - smooth) / sc.factor() + smooth));
            }
        }
        return f;
    }

    /** In-memory GGUF-layout weights (what GgufFile serves for an F32 file). */
    public static MapWeightSource ggufLayout(Spec s, Map<String, float[]> hf) {
        MapWeightSource src = new MapWeightSource();
        for (var e : ggufTensors(s, hf).entrySet()) {
            src.put(e.getKey(), new ArrayFloatTensor(e.getValue()), ggufShape(s, e.getKey(), e.getValue()));
        }
        return src;
    }

    /** In-memory HF-layout weights under GGUF names, unpermuted (what HfWeightSource serves). */
    public static MapWeightSource hfLayout(Spec s, Map<String, float[]> hf) {
        MapWeightSource src = new MapWeightSource();
        for (var e : hf.entrySet()) {
            long[] h = hfShape(s, e.getKey());
            long[] g = new long[h.length];
            for (int i = 0; i < h.length; i++) g[i] = h[h.length - 1 - i];
            src.put(ggufName(e.getKey()), new ArrayFloatTensor(e.getValue()), g);
        }
        return src;
    }

    /** GGUF-layout tensors (GGUF names, possibly dequantized) back to HF names and unpermuted rows. */
    public static Map<String, float[]> hfFromGguf(Spec s, Map<String, float[]> gguf) {
        Map<String, float[]> out = new LinkedHashMap<>();
        boolean permute = s.arch().equals("llama");
        for (String hf : hfNames(s)) {
            float[] v = gguf.get(ggufName(hf));
            if (v == null) throw new IllegalArgumentException("missing " + ggufName(hf));
            if (permute && hf.endsWith("q_proj.weight")) v = permuteRows(v, s.heads(), s.headDim(), s.dim(), true);
            if (permute && hf.endsWith("k_proj.weight")) v = permuteRows(v, s.kvHeads(), s.headDim(), s.dim(), true);
            if (permute && hf.endsWith("q_proj.bias")) v = permuteRows(v, s.heads(), s.headDim(), 1, true);
            if (permute && hf.endsWith("k_proj.bias")) v = permuteRows(v, s.kvHeads(), s.headDim(), 1, true);
            out.put(hf, v);
        }
        return out;
    }

    // ----------------------------------------------------------------------------------- metadata

    /** config.json as transformers writes it for LlamaForCausalLM / Qwen2ForCausalLM. */
    public static ObjectNode hfConfig(Spec s) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(s.arch().equals("llama") ? "LlamaForCausalLM" : "Qwen2ForCausalLM");
        c.put("model_type", s.arch());
        c.put("hidden_size", s.dim());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("intermediate_size", s.ffn());
        c.put("max_position_embeddings", s.context());
        c.put("rms_norm_eps", s.rmsEps());
        c.put("rope_theta", s.ropeTheta());
        c.put("vocab_size", s.vocab());
        c.put("tie_word_embeddings", s.tiedEmbeddings());
        c.put("hidden_act", "silu");
        c.put("torch_dtype", "float32");
        c.put("bos_token_id", BOS_ID);
        c.put("eos_token_id", EOS_ID);
        if (s.arch().equals("llama")) c.put("attention_bias", s.qkvBias());
        if (s.arch().equals("qwen2")) c.put("use_sliding_window", false);
        if (s.llama3() != null) {
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("rope_type", "llama3");
            rs.put("factor", s.llama3().factor());
            rs.put("low_freq_factor", s.llama3().lowFreqFactor());
            rs.put("high_freq_factor", s.llama3().highFreqFactor());
            rs.put("original_max_position_embeddings", s.llama3().originalMaxPositions());
        }
        return c;
    }

    /** GGUF metadata as convert_hf_to_gguf.py writes it (architecture keys plus the tokenizer). */
    public static LinkedHashMap<String, GgufValue> ggufMetadata(Spec s) {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        String a = s.arch();
        m.put("general.architecture", GgufValue.string(a));
        m.put("general.name", GgufValue.string("fixture-" + a));
        m.put(a + ".block_count", GgufValue.uint32(s.layers()));
        m.put(a + ".context_length", GgufValue.uint32(s.context()));
        m.put(a + ".embedding_length", GgufValue.uint32(s.dim()));
        m.put(a + ".feed_forward_length", GgufValue.uint32(s.ffn()));
        m.put(a + ".attention.head_count", GgufValue.uint32(s.heads()));
        m.put(a + ".attention.head_count_kv", GgufValue.uint32(s.kvHeads()));
        m.put(a + ".rope.freq_base", GgufValue.float32((float) s.ropeTheta()));
        m.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.float32(s.rmsEps()));
        m.put(a + ".rope.dimension_count", GgufValue.uint32(s.headDim()));
        m.put(a + ".vocab_size", GgufValue.uint32(s.vocab()));
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string(a.equals("llama") ? "llama-bpe" : "qwen2"));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, TOKENS));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < VOCAB_SIZE; i++) types.add(i >= FIRST_SPECIAL ? 3 : 1);
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, MERGES));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(BOS_ID));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(EOS_ID));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(a.equals("llama")));
        m.put("tokenizer.chat_template", GgufValue.string(CHAT_TEMPLATE));
        return m;
    }

    // ---------------------------------------------------------------------------------- tokenizer

    /** Merges of the fixture BPE (GPT-2 byte alphabet: 'Ġ' is the space byte). Ranks are list order. */
    public static final List<String> MERGES = List.of(
            "h e", "l l", "l o", "Ġ t", "Ġ w", "o r", "he ll", "hell o", "Ġw or", "Ġwor l", "Ġworl d", "Ġt he");
    public static final String BOS = "<|begin_of_text|>";
    public static final String EOS = "<|end_of_text|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    /** ChatML, the simplest template that exercises roles and the generation prompt. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    /** Vocabulary: 256 byte tokens (ids = byte values), one token per merge, then the specials. */
    public static final List<String> TOKENS;
    public static final int FIRST_SPECIAL;
    public static final int BOS_ID;
    public static final int EOS_ID;
    public static final int VOCAB_SIZE;

    static {
        List<String> t = new ArrayList<>();
        for (int b = 0; b < 256; b++) t.add(byteToUnicode(b));
        for (String merge : MERGES) t.add(merge.replace(" ", ""));
        FIRST_SPECIAL = t.size();
        t.add(BOS);
        t.add(EOS);
        t.add(IM_START);
        t.add(IM_END);
        TOKENS = List.copyOf(t);
        BOS_ID = FIRST_SPECIAL;
        EOS_ID = FIRST_SPECIAL + 1;
        VOCAB_SIZE = TOKENS.size();
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
    public static String byteToUnicode(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) return String.valueOf((char) b);
        int n = 0;
        for (int i = 0; i < b; i++) {
            boolean p = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            if (!p) n++;
        }
        return String.valueOf((char) (256 + n));
    }

    /** Llama 3's pre-tokenizer split regex (digits in runs of up to three). */
    public static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's pre-tokenizer split regex (single digits). */
    public static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** tokenizer.json (HF tokenizers format) for the fixture vocabulary, with the arch's pre-tokenizer. */
    public static ObjectNode tokenizerJson(Spec s) {
        return byteLevelTokenizerJson(s.arch().equals("qwen2") ? QWEN2_REGEX : LLAMA3_REGEX, TOKENS.subList(FIRST_SPECIAL, VOCAB_SIZE));
    }

    /**
     * tokenizer.json of the fixture's byte-level BPE (256 byte tokens, {@link #MERGES}) with {@code specials} as special
     * added tokens from id {@link #FIRST_SPECIAL} on, and {@code splitRegex} as the Split pre-tokenizer.
     */
    public static ObjectNode byteLevelTokenizerJson(String splitRegex, List<String> specials) {
        List<String[]> merges = MERGES.stream().map(m -> m.split(" ")).toList();
        return ByteLevelBpeJson.tokenizerJson(splitRegex, TOKENS.subList(0, FIRST_SPECIAL), merges, specials, FIRST_SPECIAL);
    }

    /** tokenizer_config.json with the specials and the chat template. */
    public static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("bos_token", BOS);
        c.put("eos_token", s.arch().equals("llama") ? EOS : IM_END);
        c.put("add_bos_token", s.arch().equals("llama"));
        c.put("model_max_length", s.context());
        c.put("chat_template", CHAT_TEMPLATE);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    // ------------------------------------------------------------------------------------ helpers

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

    // ------------------------------------------------------------------------------------ writers

    /**
     * Writes an HF model directory: config.json, model.safetensors (in {@code dtype}: F32, F16 or BF16),
     * tokenizer.json, tokenizer_config.json. Returns {@code dir}.
     */
    public static Path writeHf(Spec s, Path dir, String dtype) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter st = new SafetensorsWriter();
            for (var e : hfWeights(s).entrySet()) st.add(e.getKey(), hfShape(s, e.getKey()), dtype, e.getValue());
            st.write(dir.resolve("model.safetensors"));
            ObjectMapper om = new ObjectMapper();
            ObjectNode config = hfConfig(s);
            config.put("torch_dtype", switch (dtype) { case "F16" -> "float16"; case "BF16" -> "bfloat16"; default -> "float32"; });
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
            om.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson(s));
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfigJson(s));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #writeHf(Spec, Path, String)} in F32. */
    public static Path writeHf(Spec s, Path dir) {
        return writeHf(s, dir, "F32");
    }

    /**
     * Writes the GGUF file llama.cpp's converter would produce from {@link #writeHf}'s checkpoint, with
     * every 2-D weight in {@code type} (1-D norms, biases and rope_freqs stay F32, as llama.cpp keeps them).
     * Quantized rows must hold whole blocks: K-quants need dim and ffn multiples of 256.
     */
    public static Path writeGguf(Spec s, Path file, GgmlType type) {
        GgufWriter g = new GgufWriter();
        ggufMetadata(s).forEach(g::put);
        g.putUint32("general.file_type", fileType(type));
        for (var e : ggufTensors(s, hfWeights(s)).entrySet()) {
            long[] shape = ggufShape(s, e.getKey(), e.getValue());
            GgmlType t = shape.length == 2 ? type : GgmlType.F32;
            if (shape[0] % t.blockSize != 0) {
                throw new IllegalArgumentException(e.getKey() + ": rows of " + shape[0] + " are not whole " + t + " blocks of " + t.blockSize);
            }
            g.addTensor(e.getKey(), shape, e.getValue(), t);
        }
        g.write(file);
        return file;
    }

    /** {@code general.file_type} (llama.h enum llama_ftype) of an all-{@code type} file. */
    private static long fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0; case F16 -> 1; case Q4_0 -> 2; case Q4_1 -> 3; case Q8_0 -> 7; case Q5_0 -> 8; case Q5_1 -> 9;
            case Q4_K -> 14; case Q5_K -> 16; case Q6_K -> 18; case BF16 -> 32;
            default -> throw new IllegalArgumentException("no file type for " + type);
        };
    }
}
