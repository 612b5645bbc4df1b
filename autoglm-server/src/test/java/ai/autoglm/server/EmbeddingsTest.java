package ai.autoglm.server;

import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.encoder.BertEmbeddingModel;
import ai.autoglm.core.model.encoder.EmbeddingJars;
import ai.autoglm.core.model.encoder.EmbeddingModels;
import ai.autoglm.core.model.encoder.OrtReference;
import ai.autoglm.core.model.encoder.Pooling;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/embeddings} through the real server, driven by the official openai-java SDK, LangChain4j's
 * {@code OpenAiEmbeddingModel} and raw HTTP, on the real all-MiniLM-L6-v2 and bge-small-zh-v1.5 encoders (the ONNX
 * files of the langchain4j-embeddings jars, served straight from the jars). The reference is ONNX Runtime running the
 * same .onnx file, pooled and normalized as sentence-transformers does (core's {@link OrtReference}); its token ids
 * come from a separately loaded copy of the model (core's tokenizer tests check those against HF tokenizers).
 */
class EmbeddingsTest {
    static final List<String> SENTENCES = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "今天天气很好，我们去公园散步吧。",
            "What's the capital of France? Paris!",
            "机器学习是人工智能的一个分支，深度学习（Deep Learning）是其中之一。",
            "Résumé: naïve café, façade — déjà vu.",
            "北京是中国的首都。");

    @TempDir
    static Path dir;
    static AutoglmServer server;
    static TestServer http;
    static OpenAIClient openai;
    static final Model MINILM = new Model("minilm", EmbeddingJars.MINILM, Pooling.MEAN);
    static final Model BGE_ZH = new Model("bge-zh", EmbeddingJars.BGE_ZH, Pooling.CLS);

    /** A served encoder, with the reference's view of it. */
    record Model(String alias, String jarName, Pooling pooling) {
        Path jar() {
            return EmbeddingJars.jar(jarName);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        Path llama = TestServer.llamaFile(dir);
        // Declared BERT encoders that are never loaded: the kind is read from their descriptions alone.
        Path bertDir = Files.createDirectories(dir.resolve("bert-dir"));
        Files.writeString(bertDir.resolve("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 384}");
        Path bertGguf = dir.resolve("bert.gguf");
        new GgufWriter().putString("general.architecture", "bert").write(bertGguf);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 1 << 20, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("llama", llama, 256, 1, null, null),
                new ModelSpec(MINILM.alias(), MINILM.jar(), null, 1, null, null),
                new ModelSpec(BGE_ZH.alias(), BGE_ZH.jar(), null, 1, null, null),
                new ModelSpec("bert-dir", bertDir, null, 1, null, null),
                new ModelSpec("bert-gguf", bertGguf, null, 1, null, null)));
        server = AutoglmServer.start(config);
        http = TestServer.client(server);
        openai = OpenAIOkHttpClient.builder().baseUrl(http.base() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() throws Exception {
        TOKENIZERS.values().forEach(BertEmbeddingModel::close);
        for (OrtReference ort : SESSIONS.values()) ort.close();
        openai.close();
        server.close();
    }

    /** A copy of the model loaded here, for its tokenizer only. */
    static BertEmbeddingModel tokenizerOf(Model m) {
        return TOKENIZERS.computeIfAbsent(m, x -> (BertEmbeddingModel) EmbeddingModels.load(x.jar()));
    }

    static final Map<Model, BertEmbeddingModel> TOKENIZERS = new ConcurrentHashMap<>();
    static final Map<Model, OrtReference> SESSIONS = new ConcurrentHashMap<>();

    /** ONNX Runtime's embeddings of {@code texts} (token ids cut at the model's limit, as the model's tokenizer file says). */
    static double[][] reference(Model m, List<String> texts) throws Exception {
        OrtReference ort = SESSIONS.get(m);
        if (ort == null) SESSIONS.put(m, ort = new OrtReference(EmbeddingJars.onnx(m.jarName())));
        List<int[]> ids = new ArrayList<>();
        for (String t : texts) ids.add(tokenizerOf(m).tokenize(t));
        return ort.embed(ids, m.pooling());
    }

    static void assertMatches(List<float[]> got, double[][] expected) {
        assertThat(got).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double cos = OrtReference.cosine(got.get(i), expected[i]);
            assertThat(cos).as("cosine of input %d", i).isGreaterThanOrEqualTo(0.9999);
        }
    }

    static float[] floats(List<Float> v) {
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i);
        return out;
    }

    @Test
    void openAiSdkEmbeddingsMatchOnnxRuntimeInInputOrder() throws Exception {
        for (Model m : List.of(MINILM, BGE_ZH)) {
            double[][] expected = reference(m, SENTENCES);
            CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder().model(m.alias())
                    .inputOfArrayOfStrings(SENTENCES).encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).user("someone").build());
            assertThat(r.model()).isEqualTo(m.alias());
            List<float[]> got = new ArrayList<>();
            for (int i = 0; i < r.data().size(); i++) {
                assertThat(r.data().get(i).index()).isEqualTo(i);
                assertThat(r.data().get(i).embeddingValue().isFloats()).isTrue();
                got.add(floats(r.data().get(i).embedding()));
            }
            assertMatches(got, expected);
            // usage: the tokens the model read, [CLS] and [SEP] included
            long tokens = 0;
            for (String s : SENTENCES) tokens += tokenizerOf(m).tokenize(s).length;
            assertThat(r.usage().promptTokens()).isEqualTo(tokens);
            assertThat(r.usage().totalTokens()).isEqualTo(tokens);

            // base64: the SDK decodes the same floats, bit for bit
            CreateEmbeddingResponse b = openai.embeddings().create(EmbeddingCreateParams.builder().model(m.alias())
                    .inputOfArrayOfStrings(SENTENCES).encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64).build());
            for (int i = 0; i < SENTENCES.size(); i++) {
                assertThat(b.data().get(i).embeddingValue().isBase64()).isTrue();
                assertThat(floats(b.data().get(i).embedding())).isEqualTo(got.get(i));
            }
            // one string alone gives the same vector as in the batch
            CreateEmbeddingResponse one = openai.embeddings().create(EmbeddingCreateParams.builder().model(m.alias())
                    .input(SENTENCES.get(3)).build());
            assertThat(OrtReference.cosine(floats(one.data().getFirst().embedding()), expected[3])).isGreaterThanOrEqualTo(0.9999);
        }
    }

    @Test
    void langChain4jOpenAiEmbeddingModel() throws Exception {
        OpenAiEmbeddingModel model = OpenAiEmbeddingModel.builder().baseUrl(http.base() + "/v1").apiKey("unused")
                .modelName(BGE_ZH.alias()).maxRetries(0).build();
        List<Embedding> got = model.embedAll(SENTENCES.stream().map(TextSegment::from).toList()).content();
        assertMatches(got.stream().map(Embedding::vector).toList(), reference(BGE_ZH, SENTENCES));
        assertThat(model.embed("北京是中国的首都。").content().dimension()).isEqualTo(512);
    }

    @Test
    void rawBase64IsLittleEndianFloat32OfTheSameVector() throws Exception {
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", MINILM.alias()).put("encoding_format", "base64");
        body.putArray("input").add(SENTENCES.get(0)).add(SENTENCES.get(1));
        JsonNode b64 = TestServer.json(http.post("/v1/embeddings", body));
        body.put("encoding_format", "float");
        JsonNode flt = TestServer.json(http.post("/v1/embeddings", body));
        assertThat(flt.get("object").asText()).isEqualTo("list");
        for (int i = 0; i < 2; i++) {
            assertThat(flt.get("data").get(i).get("object").asText()).isEqualTo("embedding");
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64.get("data").get(i).get("embedding").asText()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            JsonNode values = flt.get("data").get(i).get("embedding");
            assertThat(bytes.remaining()).isEqualTo(4 * 384).isEqualTo(4 * values.size());
            for (JsonNode v : values) assertThat(bytes.getFloat()).isEqualTo(v.floatValue());
        }
    }

    @Test
    void whatCannotBeHonouredIsA400NamingTheParameter() {
        ObjectNode ok = TestServer.JSON.createObjectNode().put("model", MINILM.alias()).put("input", "hello");
        assertThat(http.post("/v1/embeddings", ok.deepCopy().put("dimensions", 384)).statusCode()).isEqualTo(200);
        JsonNode dims = ErrorsTest.error(http.post("/v1/embeddings", ok.deepCopy().put("dimensions", 256)), 400);
        assertThat(dims.get("param").asText()).isEqualTo("dimensions");
        assertThat(dims.get("message").asText()).contains("384").contains("256");
        ObjectNode tokens = ok.deepCopy();
        tokens.putArray("input").add(101).add(7592).add(102);
        JsonNode tok = ErrorsTest.error(http.post("/v1/embeddings", tokens), 400);
        assertThat(tok.get("param").asText()).isEqualTo("input");
        assertThat(tok.get("message").asText()).contains("token");
        assertThat(ErrorsTest.error(http.post("/v1/embeddings", ok.deepCopy().put("encoding_format", "int8")), 400)
                .get("param").asText()).isEqualTo("encoding_format");
        ObjectNode mixed = ok.deepCopy();
        mixed.putArray("input").add("a").add(true);
        assertThat(ErrorsTest.error(http.post("/v1/embeddings", mixed), 400).get("param").asText()).isEqualTo("input[1]");
        assertThat(ErrorsTest.error(http.post("/v1/embeddings", ok.deepCopy().put("input", "")), 400).get("param").asText()).isEqualTo("input");
        ObjectNode none = ok.deepCopy();
        none.remove("input");
        assertThat(ErrorsTest.error(http.post("/v1/embeddings", none), 400).get("param").asText()).isEqualTo("input");
        assertThat(ErrorsTest.error(http.post("/v1/embeddings", ok.deepCopy().put("model", "ada-002")), 404)
                .get("code").asText()).isEqualTo("model_not_found");
    }

    /** all-MiniLM-L6-v2 reads 128 tokens: a longer input is refused with the numbers, or cut when asked. */
    @Test
    void aTooLongInputSaysTheNumbersOrIsCutOnRequest() throws Exception {
        String longText = "the history of computing is long and full of surprising turns ".repeat(20);
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", MINILM.alias());
        body.putArray("input").add("short").add(longText);
        JsonNode e = ErrorsTest.error(http.post("/v1/embeddings", body), 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("param").asText()).isEqualTo("input[1]");
        assertThat(e.get("message").asText()).contains("128");
        body.put("truncate_prompt_tokens", -1);
        JsonNode cut = TestServer.json(http.post("/v1/embeddings", body));
        float[] v = new float[384];
        for (int i = 0; i < v.length; i++) v[i] = cut.get("data").get(1).get("embedding").get(i).floatValue();
        assertThat(OrtReference.cosine(v, reference(MINILM, List.of(longText))[0])).isGreaterThanOrEqualTo(0.9999);
    }

    @Test
    void chatOnAnEncoderAndEmbeddingsOnAChatModelAre400() {
        for (String encoder : List.of(MINILM.alias(), "bert-dir", "bert-gguf")) {
            JsonNode e = ErrorsTest.error(http.post("/v1/chat/completions", ChatApiTest.chat(encoder, "hi")), 400);
            assertThat(e.get("param").asText()).isEqualTo("model");
            assertThat(e.get("message").asText()).contains(encoder).contains("/v1/embeddings");
            ErrorsTest.error(http.post("/v1/completions", "{\"model\":\"" + encoder + "\",\"prompt\":\"x\"}"), 400);
        }
        JsonNode e = ErrorsTest.error(http.post("/v1/embeddings", "{\"model\":\"llama\",\"input\":\"x\"}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("model");
        assertThat(e.get("message").asText()).contains("llama").contains("cannot make embeddings");
        assertThat(server.registry().isLoaded("bert-dir")).isFalse();
        assertThat(server.registry().isLoaded("bert-gguf")).isFalse();
    }

    @Test
    void metricsCountEmbeddingRequestsAndInputs() {
        double before = http.metric("autoglm_embedding_inputs_total{model=\"minilm\"}");
        double requests = http.metric("autoglm_http_requests_total{route=\"/v1/embeddings\",status=\"200\"}");
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", MINILM.alias());
        body.putArray("input").add("one").add("two").add("three");
        assertThat(http.post("/v1/embeddings", body).statusCode()).isEqualTo(200);
        assertThat(http.metric("autoglm_embedding_inputs_total{model=\"minilm\"}")).isEqualTo(before + 3);
        assertThat(http.metric("autoglm_http_requests_total{route=\"/v1/embeddings\",status=\"200\"}")).isEqualTo(requests + 1);
    }

    /** An encoder declared in the YAML file loads on its first request and unloads after its keep-alive, like the others. */
    @Test
    void anEncoderLoadsOnFirstUseAndFollowsKeepAlive(@TempDir Path tmp) throws Exception {
        Path yaml = Files.writeString(tmp.resolve("autoglm.yaml"), """
                server:
                  port: 0
                models:
                  - alias: mini
                    path: %s
                    keep-alive: 1s
                """.formatted(MINILM.jar()));
        try (TestServer client = TestServer.client(AutoglmServer.start(ai.autoglm.server.config.ServerConfigFile.read(yaml)))) {
            ModelRegistry registry = client.server.registry();
            assertThat(registry.isLoaded("mini")).isFalse();
            String body = "{\"input\": \"hello\"}"; // no model: the first embedding model
            assertThat(TestServer.json(client.post("/v1/embeddings", body)).get("model").asText()).isEqualTo("mini");
            assertThat(registry.isLoaded("mini")).isTrue();
            SchedulingTest.waitFor(() -> !registry.isLoaded("mini"));
            assertThat(client.post("/v1/embeddings", body).statusCode()).isEqualTo(200);
        }
    }
}
