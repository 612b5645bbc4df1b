package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.format.onnx.OnnxModel;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import ai.autoglm.core.tokenizer.WordPieceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Opens a BERT embedding model from any of the places one can be:
 * <ul>
 *   <li>an {@code .onnx} file (a PyTorch export of the encoder; see {@link OnnxBertGraph}) with its tokenizer beside
 *       it as {@code tokenizer.json} or {@code <stem>-tokenizer.json};</li>
 *   <li>a {@code .jar}/{@code .zip} holding one {@code .onnx} and one {@code *tokenizer.json} (the langchain4j
 *       {@code langchain4j-embeddings-*} artifacts);</li>
 *   <li>a Hugging Face directory: config.json of a BERT model ({@code model_type: "bert"}), safetensors weights,
 *       tokenizer.json, and optionally sentence-transformers' {@code 1_Pooling/config.json};</li>
 *   <li>a GGUF file with {@code general.architecture = "bert"} as llama.cpp's convert_hf_to_gguf.py writes it.</li>
 * </ul>
 * Pooling: from the model's own files where they say ({@code 1_Pooling/config.json}, GGUF {@code bert.pooling_type}),
 * else by the model's name ({@link Pooling#forModelName}), unless {@link Options#pooling} overrides it. Truncation:
 * the tokenizer file's {@code truncation.max_length} when it has one (all-MiniLM-L6-v2's says 128), else the model's
 * position count (512), unless {@link Options#maxTokens} overrides it.
 */
public final class EmbeddingModels {
    /** An embedded file larger than this cannot be read from a jar into one array. */
    private static final long MAX_JAR_ENTRY = Integer.MAX_VALUE - 64;

    /**
     * Overrides; null fields mean "the model's default". {@code projectionType}: convert the encoder's projection
     * matrices to this type in memory at load time (see {@link BertEncoder#BertEncoder(BertConfig, WeightSource, Path,
     * GgmlType)}); null keeps the stored weights.
     */
    public record Options(Pooling pooling, Integer maxTokens, boolean normalize, GgmlType projectionType) {
        public static final Options DEFAULT = new Options(null, null, true, null);

        public Options(Pooling pooling, Integer maxTokens, boolean normalize) {
            this(pooling, maxTokens, normalize, null);
        }

        public Options withProjectionType(GgmlType type) {
            return new Options(pooling, maxTokens, normalize, type);
        }
    }

    private EmbeddingModels() {
    }

    public static EmbeddingModel load(Path path) {
        return load(path, Options.DEFAULT);
    }

    /** @throws ModelFormatException naming the file when it is missing, corrupt or not a BERT embedding model */
    public static BertEmbeddingModel load(Path path, Options options) {
        if (Files.isDirectory(path)) return fromHfDirectory(path, options);
        if (!Files.isRegularFile(path)) throw new ModelFormatException(path, "no such file or directory");
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".onnx")) return fromOnnxFile(path, options);
        if (name.endsWith(".jar") || name.endsWith(".zip")) return fromJar(path, options);
        if (name.endsWith(".gguf")) return fromGguf(path, options);
        throw new ModelFormatException(path, "not an embedding model this engine reads (expected .onnx, .jar, .gguf or a "
                + "Hugging Face directory)");
    }

    private static BertEmbeddingModel fromOnnxFile(Path file, Options options) {
        String stem = stem(file.getFileName().toString());
        Path tokenizerFile = null;
        for (String candidate : List.of(stem + "-tokenizer.json", stem + "_tokenizer.json", "tokenizer.json")) {
            Path p = file.resolveSibling(candidate);
            if (Files.isRegularFile(p)) {
                tokenizerFile = p;
                break;
            }
        }
        if (tokenizerFile == null) {
            throw new ModelFormatException(file, "no tokenizer beside the model (looked for " + stem + "-tokenizer.json and "
                    + "tokenizer.json)");
        }
        WordPieceTokenizer tokenizer = wordPiece(tokenizerFile, Tokenizers.fromTokenizerJson(tokenizerFile));
        OnnxModel onnx = OnnxModel.open(file);
        try {
            return fromOnnx(onnx, tokenizer, stem, options);
        } catch (RuntimeException e) {
            onnx.close();
            throw e;
        }
    }

    private static BertEmbeddingModel fromJar(Path jar, Options options) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry onnxEntry = only(jar, zip, ".onnx");
            ZipEntry tokEntry = only(jar, zip, "tokenizer.json");
            Path tokName = Path.of(jar + "!/" + tokEntry.getName());
            WordPieceTokenizer tokenizer = wordPiece(tokName, Tokenizers.fromTokenizerJson(tokName, read(jar, zip, tokEntry)));
            Path onnxName = Path.of(jar + "!/" + onnxEntry.getName());
            OnnxModel onnx = OnnxModel.read(onnxName, MemorySegment.ofArray(read(jar, zip, onnxEntry)));
            return fromOnnx(onnx, tokenizer, stem(Path.of(onnxEntry.getName()).getFileName().toString()), options);
        } catch (IOException e) {
            throw new ModelFormatException(jar, "cannot read as a jar/zip: " + e.getMessage(), e);
        }
    }

    private static ZipEntry only(Path jar, ZipFile zip, String suffix) {
        List<ZipEntry> found = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            if (!e.isDirectory() && e.getName().endsWith(suffix)) found.add(e);
        }
        if (found.size() != 1) {
            throw new ModelFormatException(jar, "expected exactly one *" + suffix + " entry, found " + found.size());
        }
        return found.getFirst();
    }

    private static byte[] read(Path jar, ZipFile zip, ZipEntry e) throws IOException {
        if (e.getSize() > MAX_JAR_ENTRY) {
            throw new ModelFormatException(jar, e.getName() + " is " + e.getSize() + " bytes, too large to read from a jar; "
                    + "extract it and load the file");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] bytes = in.readNBytes((int) MAX_JAR_ENTRY);
            if (e.getSize() >= 0 && bytes.length != e.getSize()) {
                throw new ModelFormatException(jar, e.getName() + " is truncated (" + bytes.length + " of " + e.getSize() + " bytes)");
            }
            return bytes;
        }
    }

    private static BertEmbeddingModel fromOnnx(OnnxModel onnx, WordPieceTokenizer tokenizer, String name, Options options) {
        OnnxBertGraph.Result r = OnnxBertGraph.read(onnx);
        BertEncoder encoder = new BertEncoder(r.config(), r.weights(), onnx.file(), options.projectionType());
        Pooling pooling = options.pooling() != null ? options.pooling() : Pooling.forModelName(name);
        return build(name, encoder, tokenizer, pooling, options, onnx);
    }

    private static BertEmbeddingModel fromHfDirectory(Path dir, Options options) {
        HfCheckpoint ck = HfCheckpoint.open(dir);
        try {
            Path configFile = dir.resolve("config.json");
            JsonNode c = ck.config();
            if (!"bert".equals(c.path("model_type").asText("bert"))) {
                throw new ModelFormatException(configFile, "model_type is '" + c.path("model_type").asText()
                        + "', expected 'bert' for an embedding model");
            }
            String act = c.path("hidden_act").asText("gelu");
            if (!act.equals("gelu")) {
                throw new ModelFormatException(configFile, "hidden_act '" + act + "' is not supported (only the erf 'gelu')");
            }
            String posType = c.path("position_embedding_type").asText("absolute");
            if (!posType.equals("absolute")) {
                throw new ModelFormatException(configFile, "position_embedding_type '" + posType + "' is not supported");
            }
            MapWeightSource w = new MapWeightSource();
            for (String hf : ck.tensorNames()) {
                String gguf = BertTensorNames.toGguf(hf);
                if (gguf == null) continue;
                long[] s = ck.shape(hf);
                long[] reversed = new long[s.length];
                for (int i = 0; i < s.length; i++) reversed[i] = s[s.length - 1 - i];
                w.put(gguf, ck.tensor(hf), reversed);
            }
            int heads = c.path("num_attention_heads").asInt(0);
            float eps = (float) c.path("layer_norm_eps").asDouble(BertConfig.DEFAULT_EPS);
            BertConfig cfg = BertConfig.infer(configFile, w, heads, eps);
            BertEncoder encoder = new BertEncoder(cfg, w, dir, options.projectionType());
            WordPieceTokenizer tokenizer = wordPiece(dir.resolve("tokenizer.json"), Tokenizers.fromHfDirectory(dir));
            Pooling pooling = options.pooling() != null ? options.pooling() : hfPooling(dir, c);
            return build(dir.getFileName() == null ? dir.toString() : dir.getFileName().toString(), encoder, tokenizer,
                    pooling, options, ck);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** sentence-transformers' 1_Pooling/config.json, else the model's name (config _name_or_path, else the directory). */
    private static Pooling hfPooling(Path dir, JsonNode config) {
        Path pooling = dir.resolve("1_Pooling").resolve("config.json");
        if (Files.isRegularFile(pooling)) {
            JsonNode p = HfCheckpoint.readJson(pooling);
            if (p.path("pooling_mode_cls_token").asBoolean(false)) return Pooling.CLS;
            if (p.path("pooling_mode_mean_tokens").asBoolean(false)) return Pooling.MEAN;
            throw new ModelFormatException(pooling, "only CLS and mean pooling are supported");
        }
        String name = config.path("_name_or_path").asText("");
        return Pooling.forModelName(name.isEmpty() ? String.valueOf(dir.toAbsolutePath().getFileName()) : name);
    }

    private static BertEmbeddingModel fromGguf(Path path, Options options) {
        GgufFile gguf = GgufFile.open(path);
        try {
            String arch = gguf.getString(GgufKeys.ARCHITECTURE, "");
            if (!arch.equals("bert")) {
                throw new ModelFormatException(path, "general.architecture is '" + arch + "', expected 'bert' for an "
                        + "embedding model");
            }
            WeightSource w = new GgufWeightSource(gguf);
            int heads = (int) gguf.getLong("bert.attention.head_count", 0);
            float eps = gguf.getFloat("bert.attention.layer_norm_epsilon", BertConfig.DEFAULT_EPS);
            BertConfig cfg = BertConfig.infer(path, w, heads, eps);
            BertEncoder encoder = new BertEncoder(cfg, w, path, options.projectionType());
            WordPieceTokenizer tokenizer = wordPiece(path, Tokenizers.fromGguf(gguf.metadata(), path));
            Pooling pooling = options.pooling();
            if (pooling == null) pooling = Pooling.fromGgufPoolingType(gguf.getLong("bert.pooling_type", 0));
            if (pooling == null) pooling = Pooling.forModelName(gguf.getString(GgufKeys.NAME, path.getFileName().toString()));
            return build(stem(path.getFileName().toString()), encoder, tokenizer, pooling, options, gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static BertEmbeddingModel build(String name, BertEncoder encoder, WordPieceTokenizer tokenizer, Pooling pooling,
                                            Options options, AutoCloseable resources) {
        if (tokenizer.vocabSize() > encoder.config().vocabSize()) {
            throw new ModelFormatException(Path.of(name), "tokenizer has " + tokenizer.vocabSize()
                    + " tokens, the model's embedding table only " + encoder.config().vocabSize());
        }
        int positions = encoder.config().maxPositions();
        int maxTokens = options.maxTokens() != null ? options.maxTokens()
                : tokenizer.maxLength() > 0 ? Math.min(tokenizer.maxLength(), positions) : positions;
        if (maxTokens < 2 || maxTokens > positions) {
            throw new IllegalArgumentException("maxTokens must be in [2, " + positions + "] for " + name + ", got " + maxTokens);
        }
        return new BertEmbeddingModel(name, encoder, tokenizer, pooling, options.normalize(), maxTokens, resources);
    }

    private static WordPieceTokenizer wordPiece(Path file, Tokenizer t) {
        if (t instanceof WordPieceTokenizer w) return w;
        throw new ModelFormatException(file, "the tokenizer is not WordPiece (" + t.getClass().getSimpleName()
                + "); BERT embedding models need a WordPiece vocabulary");
    }

    private static String stem(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }
}
