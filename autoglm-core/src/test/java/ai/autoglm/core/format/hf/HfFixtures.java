package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.safetensors.SafetensorsWriter;

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
 * Writes small random-weight Hugging Face checkpoint directories (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) in the layout transformers' save_pretrained uses, for Llama and Qwen2. Shared with other
 * tests through the test-jar.
 */
public final class HfFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Llama-3 pre-tokenizer split regex (Meta-Llama-3 tokenizer.json). */
    public static final String LLAMA3_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2 pre-tokenizer split regex (Qwen2 tokenizer.json): single digits. */
    public static final String QWEN2_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * What to generate. {@code tokenizer}: "llama3", "qwen2" (byte-level BPE) or "llama2" (SentencePiece-style BPE
     * with byte fallback).
     */
    public record Spec(String architecture, int hidden, int heads, int kvHeads, int layers, int ffn, String dtype,
                       boolean tiedEmbeddings, boolean llama3Rope, String tokenizer, long seed) {
        public int headDim() {
            return hidden / heads;
        }
    }

    public static Spec llama() {
        return new Spec("LlamaForCausalLM", 64, 4, 2, 2, 80, "F32", false, true, "llama3", 1);
    }

    public static Spec qwen2() {
        return new Spec("Qwen2ForCausalLM", 64, 4, 2, 2, 96, "BF16", true, false, "qwen2", 2);
    }

    /** The written checkpoint: its weights as float32 (after rounding to the stored dtype) and its vocabulary size. */
    public record Written(Map<String, float[]> weights, Map<String, long[]> shapes, int vocabSize, List<String> vocab) {
    }

    public static Written write(Path dir, Spec s) {
        try {
            Files.createDirectories(dir);
            Tok tok = switch (s.tokenizer()) {
                case "llama2" -> llama2Tokenizer();
                case "qwen2" -> byteLevelTokenizer(QWEN2_REGEX, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"), false);
                default -> byteLevelTokenizer(LLAMA3_REGEX, List.of("<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"), true);
            };
            int vocabSize = tok.vocab.size() + 1; // one slot the tokenizer does not fill: becomes [PAD..] in GGUF
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tok.json);
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), tok.config);
            writeConfig(dir, s, vocabSize, tok);

            Random r = new Random(s.seed());
            Map<String, float[]> w = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            int kvDim = s.kvHeads() * s.headDim();
            boolean bias = s.architecture().startsWith("Qwen2");
            add(w, shapes, r, "model.embed_tokens.weight", vocabSize, s.hidden());
            for (int l = 0; l < s.layers(); l++) {
                String p = "model.layers." + l + ".";
                norm(w, shapes, r, p + "input_layernorm.weight", s.hidden());
                add(w, shapes, r, p + "self_attn.q_proj.weight", s.hidden(), s.hidden());
                add(w, shapes, r, p + "self_attn.k_proj.weight", kvDim, s.hidden());
                add(w, shapes, r, p + "self_attn.v_proj.weight", kvDim, s.hidden());
                if (bias) {
                    add(w, shapes, r, p + "self_attn.q_proj.bias", s.hidden());
                    add(w, shapes, r, p + "self_attn.k_proj.bias", kvDim);
                    add(w, shapes, r, p + "self_attn.v_proj.bias", kvDim);
                }
                add(w, shapes, r, p + "self_attn.o_proj.weight", s.hidden(), s.hidden());
                norm(w, shapes, r, p + "post_attention_layernorm.weight", s.hidden());
                add(w, shapes, r, p + "mlp.gate_proj.weight", s.ffn(), s.hidden());
                add(w, shapes, r, p + "mlp.up_proj.weight", s.ffn(), s.hidden());
                add(w, shapes, r, p + "mlp.down_proj.weight", s.hidden(), s.ffn());
            }
            norm(w, shapes, r, "model.norm.weight", s.hidden());
            if (!s.tiedEmbeddings()) add(w, shapes, r, "lm_head.weight", vocabSize, s.hidden());
            // transformers may save the (unused) rotary buffer; the converter must skip it.
            add(w, shapes, r, "model.layers.0.self_attn.rotary_emb.inv_freq", s.headDim() / 2);

            SafetensorsWriter out = new SafetensorsWriter().putMetadata("format", "pt");
            for (Map.Entry<String, float[]> e : w.entrySet()) {
                out.add(e.getKey(), shapes.get(e.getKey()), s.dtype(), e.getValue());
            }
            Path file = dir.resolve("model.safetensors");
            out.write(file);
            // Read back so callers compare against the stored (rounded) values.
            try (var f = ai.autoglm.core.format.safetensors.SafetensorsFile.open(file)) {
                for (Map.Entry<String, float[]> e : w.entrySet()) {
                    var t = f.tensor(e.getKey());
                    float[] v = e.getValue();
                    for (int i = 0; i < v.length; i++) v[i] = t.getFloat(i);
                }
            }
            return new Written(w, shapes, vocabSize, tok.vocab);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void add(Map<String, float[]> w, Map<String, long[]> shapes, Random r, String name, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.5);
        w.put(name, v);
        shapes.put(name, shape);
    }

    private static void norm(Map<String, float[]> w, Map<String, long[]> shapes, Random r, String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 1f + (float) (r.nextGaussian() * 0.1);
        w.put(name, v);
        shapes.put(name, new long[]{n});
    }

    private static void writeConfig(Path dir, Spec s, int vocabSize, Tok tok) throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(s.architecture());
        c.put("model_type", s.architecture().startsWith("Qwen2") ? "qwen2" : "llama");
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.ffn());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("num_hidden_layers", s.layers());
        c.put("max_position_embeddings", 4096);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", s.llama3Rope() ? 500000.0 : 1000000.0);
        c.put("vocab_size", vocabSize);
        c.put("tie_word_embeddings", s.tiedEmbeddings());
        c.put("torch_dtype", s.dtype().equals("F32") ? "float32" : s.dtype().equals("F16") ? "float16" : "bfloat16");
        c.put("bos_token_id", tok.bosId);
        c.put("eos_token_id", tok.eosId);
        if (s.llama3Rope()) {
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("factor", 8.0);
            rs.put("low_freq_factor", 1.0);
            rs.put("high_freq_factor", 4.0);
            rs.put("original_max_position_embeddings", 8192);
            rs.put("rope_type", "llama3");
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
    }

    private record Tok(ObjectNode json, ObjectNode config, List<String> vocab, int bosId, int eosId) {
    }

    /** GPT-2 bytes_to_unicode (openai/gpt-2 encoder.py): printable bytes map to themselves, the rest to U+0100... */
    public static String[] byteToUnicode() {
        String[] out = new String[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = printable ? String.valueOf((char) b) : String.valueOf((char) (256 + n++));
        }
        return out;
    }

    private static Tok byteLevelTokenizer(String regex, List<String> specials, boolean llama3) {
        List<String> vocab = new ArrayList<>(List.of(byteToUnicode()));
        String[][] merges = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"Ġ", "a"}};
        for (String[] m : merges) vocab.add(m[0] + m[1]);
        ObjectNode json = JSON.createObjectNode();
        json.put("version", "1.0");
        ArrayNode added = json.putArray("added_tokens");
        for (int i = 0; i < specials.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", vocab.size() + i);
            a.put("content", specials.get(i));
            a.put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        json.putNull("normalizer");
        ObjectNode pre = json.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated").put("invert", false);
        pres.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        int bos = vocab.size(); // specials[0]
        if (llama3) {
            ObjectNode post = json.putObject("post_processor");
            post.put("type", "Sequence");
            ArrayNode procs = post.putArray("processors");
            procs.addObject().put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false).put("use_regex", true);
            ObjectNode tp = procs.addObject();
            tp.put("type", "TemplateProcessing");
            ArrayNode single = tp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", specials.get(0)).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        } else {
            json.putNull("post_processor");
        }
        json.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = json.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token");
        model.put("byte_fallback", false).put("ignore_merges", llama3);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) v.put(vocab.get(i), i);
        ArrayNode ms = model.putArray("merges");
        for (String[] m : merges) ms.add(m[0] + " " + m[1]); // the pre-4.45 string form; the pair form is read too
        ObjectNode cfg = JSON.createObjectNode();
        if (llama3) {
            cfg.put("bos_token", specials.get(0));
            cfg.put("eos_token", specials.get(2));
            cfg.put("chat_template", "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}");
        } else {
            cfg.put("add_prefix_space", false);
            cfg.putNull("bos_token");
            cfg.put("eos_token", specials.get(2));
            cfg.put("pad_token", specials.get(0));
            cfg.put("chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}");
        }
        cfg.put("tokenizer_class", llama3 ? "PreTrainedTokenizerFast" : "Qwen2Tokenizer");
        List<String> all = new ArrayList<>(vocab);
        all.addAll(specials);
        int eos = llama3 ? bos + 2 : bos; // config.json ids: llama3 eos <|eot_id|>, qwen2 bos/eos <|endoftext|>
        return new Tok(json, cfg, all, bos, eos);
    }

    /** Llama-2 style: SentencePiece BPE converted to tokenizer.json (byte_fallback, "▁" for spaces). */
    private static Tok llama2Tokenizer() {
        List<String> vocab = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) vocab.add(String.format("<0x%02X>", b));
        String[][] merges = {{"▁", "t"}, {"h", "e"}, {"▁t", "he"}, {"▁", "a"}};
        for (String[] m : merges) vocab.add(m[0] + m[1]);
        for (String ch : List.of("▁", "t", "h", "e", "a")) vocab.add(ch);
        ObjectNode json = JSON.createObjectNode();
        json.put("version", "1.0");
        ArrayNode added = json.putArray("added_tokens");
        for (int i = 0; i < 3; i++) {
            ObjectNode a = added.addObject();
            a.put("id", i).put("content", vocab.get(i));
            a.put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = json.putObject("normalizer");
        norm.put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", "▁");
        ns.addObject().put("type", "Replace").putObject("pattern").put("String", " ");
        json.putNull("pre_tokenizer");
        ObjectNode post = json.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ObjectNode dec = json.putObject("decoder");
        dec.put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ds.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "▁");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ObjectNode model = json.putObject("model");
        model.put("type", "BPE").putNull("dropout").put("unk_token", "<unk>");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) v.put(vocab.get(i), i);
        ArrayNode ms = model.putArray("merges");
        for (String[] m : merges) ms.addArray().add(m[0]).add(m[1]); // the transformers >= 4.45 pair form
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("add_bos_token", true).put("add_eos_token", false);
        cfg.putObject("bos_token").put("content", "<s>").put("special", true);
        cfg.put("eos_token", "</s>");
        cfg.put("unk_token", "<unk>");
        cfg.put("tokenizer_class", "LlamaTokenizer");
        cfg.put("chat_template", "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}");
        return new Tok(json, cfg, vocab, 1, 2);
    }
}
