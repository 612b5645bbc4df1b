package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.onnx.OnnxModel;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The same trained weights (all-MiniLM-L6-v2 from its ONNX file) written here as a Hugging Face BertModel directory
 * (config.json, model.safetensors, tokenizer.json, 1_Pooling/config.json) and as a GGUF laid out the way llama.cpp's
 * convert_hf_to_gguf.py BertModel writes one (tensor names of gguf-py MODEL_ARCH.BERT, bert.* keys, the "phantom
 * space" WordPiece vocabulary): all three load to the same embeddings, and the GGUF vocabulary tokenizes like the
 * tokenizer.json.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BertFormatsTest {
    private static final int HEADS = 12; // all-MiniLM-L6-v2 config.json num_attention_heads

    /** HF BertModel parameter → GGUF name (gguf-py tensor_mapping.py BERT rows), written out independently here. */
    private static final String[][] GLOBAL_NAMES = {
            {"embeddings.word_embeddings.weight", "token_embd.weight"},
            {"embeddings.position_embeddings.weight", "position_embd.weight"},
            {"embeddings.token_type_embeddings.weight", "token_types.weight"},
            {"embeddings.LayerNorm.weight", "token_embd_norm.weight"},
            {"embeddings.LayerNorm.bias", "token_embd_norm.bias"}};
    private static final String[][] BLOCK_NAMES = {
            {"attention.self.query", "attn_q"}, {"attention.self.key", "attn_k"}, {"attention.self.value", "attn_v"},
            {"attention.output.dense", "attn_output"}, {"attention.output.LayerNorm", "attn_output_norm"},
            {"intermediate.dense", "ffn_up"}, {"output.dense", "ffn_down"}, {"output.LayerNorm", "layer_output_norm"}};

    @TempDir
    static Path tmp;
    private BertEmbeddingModel onnx;
    private BertEmbeddingModel hf;
    private BertEmbeddingModel gguf;

    @BeforeAll
    void writeAndLoad() throws Exception {
        Path jar = EmbeddingJars.jar(EmbeddingJars.MINILM);
        onnx = EmbeddingModels.load(jar, EmbeddingModels.Options.DEFAULT);
        byte[] tokenizerJson = EmbeddingJars.entry(EmbeddingJars.MINILM, EmbeddingJars.MINILM + "-tokenizer.json");

        // The weights as the ONNX reader found them, by GGUF name.
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, long[]> ggufShapes = new LinkedHashMap<>();
        int layers;
        try (OnnxModel m = OnnxModel.read(jar, MemorySegment.ofArray(EmbeddingJars.onnx(EmbeddingJars.MINILM)))) {
            WeightSource w = OnnxBertGraph.read(m).weights();
            for (String name : w.names()) {
                FloatTensor t = w.tensor(name);
                float[] v = new float[Math.toIntExact(t.size())];
                t.copyTo(0, v, 0, v.length);
                weights.put(name, v);
                ggufShapes.put(name, w.shape(name));
            }
            layers = (int) w.names().stream().filter(n -> n.endsWith("attn_q.weight")).count();
        }
        int hidden = (int) ggufShapes.get("token_embd.weight")[0];

        // Hugging Face directory.
        Path dir = Files.createDirectories(tmp.resolve("all-MiniLM-L6-v2"));
        SafetensorsWriter st = new SafetensorsWriter();
        for (Map.Entry<String, String> e : hfToGguf(layers).entrySet()) {
            long[] g = ggufShapes.get(e.getValue());
            long[] hfShape = g.length == 1 ? g : new long[] {g[1], g[0]};
            st.add(e.getKey(), hfShape, "F32", weights.get(e.getValue()));
        }
        st.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
                 "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "max_position_embeddings": 512, "type_vocab_size": 2, "vocab_size": 30522, "layer_norm_eps": 1e-12,
                 "position_embedding_type": "absolute"}
                """.formatted(hidden, layers, HEADS, ggufShapes.get("blk.0.ffn_up.weight")[1]));
        Files.write(dir.resolve("tokenizer.json"), tokenizerJson);
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"),
                "{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": false, \"pooling_mode_mean_tokens\": true}");
        hf = EmbeddingModels.load(dir, EmbeddingModels.Options.DEFAULT);

        // GGUF.
        GgufWriter gw = new GgufWriter();
        gw.putString("general.architecture", "bert");
        gw.putString("general.name", "all-MiniLM-L6-v2");
        gw.putUint32("bert.context_length", 512);
        gw.putUint32("bert.embedding_length", hidden);
        gw.putUint32("bert.feed_forward_length", ggufShapes.get("blk.0.ffn_up.weight")[1]);
        gw.putUint32("bert.block_count", layers);
        gw.putUint32("bert.attention.head_count", HEADS);
        gw.putFloat32("bert.attention.layer_norm_epsilon", 1e-12f);
        gw.putBool("bert.attention.causal", false);
        gw.putUint32("bert.pooling_type", 1); // MEAN
        writePhantomVocab(gw, new ObjectMapper().readTree(tokenizerJson));
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            gw.addTensor(e.getKey(), ggufShapes.get(e.getKey()), e.getValue(), GgmlType.F32);
        }
        Path ggufFile = tmp.resolve("all-MiniLM-L6-v2.gguf");
        gw.write(ggufFile);
        gguf = EmbeddingModels.load(ggufFile, EmbeddingModels.Options.DEFAULT);
    }

    private static Map<String, String> hfToGguf(int layers) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String[] g : GLOBAL_NAMES) m.put(g[0], g[1]);
        for (int l = 0; l < layers; l++) {
            for (String[] b : BLOCK_NAMES) {
                for (String suffix : new String[] {".weight", ".bias"}) {
                    m.put("encoder.layer." + l + "." + b[0] + suffix, "blk." + l + "." + b[1] + suffix);
                }
            }
        }
        return m;
    }

    /** convert_hf_to_gguf.py BertModel.set_vocab: special tokens CONTROL and as-is, "##x" → "x", else "▁" + token. */
    private static void writePhantomVocab(GgufWriter gw, JsonNode tj) {
        JsonNode vocab = tj.path("model").path("vocab");
        String[] tokens = new String[vocab.size()];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tokens[e.getValue().asInt()] = e.getKey();
        }
        int[] types = new int[tokens.length];
        java.util.Arrays.fill(types, 1);
        for (JsonNode a : tj.path("added_tokens")) if (a.path("special").asBoolean()) types[a.path("id").asInt()] = 3;
        List<Object> names = new ArrayList<>();
        List<Object> typeList = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            names.add(types[i] == 3 ? t : t.startsWith("##") ? t.substring(2) : "\u2581" + t);
            typeList.add(types[i]);
        }
        gw.putString("tokenizer.ggml.model", "bert");
        gw.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, names));
        gw.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, typeList));
        gw.putUint32("tokenizer.ggml.token_type_count", 2);
        gw.putUint32("tokenizer.ggml.unknown_token_id", 100);
        gw.putUint32("tokenizer.ggml.cls_token_id", 101);
        gw.putUint32("tokenizer.ggml.seperator_token_id", 102);
        gw.putUint32("tokenizer.ggml.padding_token_id", 0);
        gw.putUint32("tokenizer.ggml.mask_token_id", 103);
    }

    @AfterAll
    void close() {
        for (EmbeddingModel m : new EmbeddingModel[] {onnx, hf, gguf}) if (m != null) m.close();
    }

    @Test
    void allThreeFormatsGiveTheSameEmbeddings() {
        List<String> texts = EmbeddingCorpus.SHORT;
        float[][] a = onnx.embed(texts);
        float[][] b = hf.embed(texts);
        float[][] c = gguf.embed(texts);
        assertThat(hf.pooling()).isEqualTo(Pooling.MEAN);
        assertThat(gguf.pooling()).isEqualTo(Pooling.MEAN);
        assertThat(hf.encoder().config()).isEqualTo(onnx.encoder().config());
        assertThat(gguf.encoder().config()).isEqualTo(onnx.encoder().config());
        for (int i = 0; i < texts.size(); i++) {
            for (int d = 0; d < a[i].length; d++) {
                assertThat(b[i][d]).as("HF vs ONNX, text %d dim %d", i, d).isCloseTo(a[i][d], within(1e-5f));
                assertThat(c[i][d]).as("GGUF vs ONNX, text %d dim %d", i, d).isCloseTo(a[i][d], within(1e-5f));
            }
        }
    }

    @Test
    void ggufVocabularyTokenizesLikeTheTokenizerJson() {
        for (String text : EmbeddingCorpus.all()) {
            int[] expected = onnx.tokenizer().encodeForModel(text, Integer.MAX_VALUE);
            assertThat(gguf.tokenizer().encodeForModel(text, Integer.MAX_VALUE)).as(text).containsExactly(expected);
            assertThat(hf.tokenize(text)).as(text).containsExactly(onnx.tokenize(text));
        }
        // GGUF has no truncation setting: the model's 512 positions; the tokenizer.json says 128.
        assertThat(gguf.maxTokens()).isEqualTo(512);
        assertThat(hf.maxTokens()).isEqualTo(128);
        assertThat(gguf.tokenizer().decode(gguf.tokenize("Hello, world! It's fine.")))
                .isEqualTo("[CLS] hello, world! it's fine. [SEP]");
    }
}
