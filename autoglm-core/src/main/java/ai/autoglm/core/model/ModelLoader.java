package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;

/**
 * Opens a model from disk: a {@code .gguf} file (weights, config and tokenizer all in its metadata) or a
 * Hugging Face directory ({@code config.json}, safetensors shards, {@code tokenizer.json},
 * {@code tokenizer_config.json}). Either way the result is one {@link TransformerModel} over GGUF-named
 * weights; the caller closes it to unmap the files.
 */
public final class ModelLoader {
    private static final byte[] GGUF_MAGIC = {'G', 'G', 'U', 'F'};
    /** Chat templates above this size are not templates. */
    private static final long MAX_TEMPLATE_BYTES = 1 << 20;

    private ModelLoader() {
    }

    /** The checkpoint as stored ({@link LoadOptions#defaults()}). */
    public static LanguageModel load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /** The checkpoint with {@code options}' adapter, decorator and weight transform. */
    public static LanguageModel load(Path path, LoadOptions options) {
        LanguageModel model = open(path, options);
        if (!options.kvCache().equals(KvCacheTypes.DEFAULT)) {
            try {
                if (!(model instanceof TransformerModel tm)) throw new IllegalArgumentException("KV cache types need a transformer model");
                tm.setKvCacheTypes(options.kvCache());
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        return model;
    }

    private static LanguageModel open(Path path, LoadOptions options) {
        BiFunction<ModelConfig, WeightSource, ProjectionDecorator> decoratorFactory = options.decorators();
        BiFunction<ModelConfig, WeightSource, WeightSource> weights = options.weights();
        if (options.lora() != null) {
            Path adapterDir = options.lora();
            PeftAdapter adapter = PeftAdapter.read(adapterDir);
            BiFunction<ModelConfig, WeightSource, ProjectionDecorator> others = decoratorFactory;
            decoratorFactory = (config, w) -> LoraProjection.decorator(LoraTargets.resolve(adapter, config, w, adapterDir))
                    .andThen(others.apply(config, w));
        }
        if (!Files.exists(path)) throw new ModelFormatException(path, "no such file or directory");
        if (Files.isDirectory(path)) return loadHfDirectory(path, decoratorFactory, weights);
        if (!hasGgufMagic(path)) {
            if (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors")) {
                // one safetensors file holds weights only: the architecture is in config.json, the tokenizer beside it
                Path dir = path.toAbsolutePath().getParent();
                throw new ModelFormatException(path, Files.isRegularFile(dir.resolve("config.json"))
                        ? "a safetensors file holds only weights; give the Hugging Face model directory instead: " + dir
                        : "a safetensors file holds only weights; give the Hugging Face model directory that has it with config.json and tokenizer.json");
            }
            throw new ModelFormatException(path, "not a GGUF file (no GGUF magic) and not a Hugging Face model directory");
        }
        return loadGguf(path, decoratorFactory, weights);
    }

    private static boolean hasGgufMagic(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            return java.util.Arrays.equals(head, GGUF_MAGIC);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    static LanguageModel loadGguf(Path file, BiFunction<ModelConfig, WeightSource, ProjectionDecorator> decorators,
                                  BiFunction<ModelConfig, WeightSource, WeightSource> transform) {
        GgufFile gguf = GgufFile.open(file);
        WeightSource bound = null;
        try {
            GgufWeightSource weights = new GgufWeightSource(gguf);
            ModelConfig config = ModelConfig.fromGguf(file, gguf.metadata(), weights);
            Tokenizer tokenizer = Tokenizers.fromGguf(gguf.metadata(), file);
            checkVocab(file, config, tokenizer);
            String template = gguf.getString("tokenizer.chat_template", null);
            bound = transform.apply(config, weights);
            return new TransformerModel(config, closingBoth(bound, weights), tokenizer, template, file, decorators.apply(config, bound));
        } catch (RuntimeException e) {
            if (bound != null) bound.close();
            gguf.close();
            throw e;
        }
    }

    static LanguageModel loadHfDirectory(Path dir, BiFunction<ModelConfig, WeightSource, ProjectionDecorator> decorators,
                                         BiFunction<ModelConfig, WeightSource, WeightSource> transform) {
        HfWeightSource weights = HfWeightSource.open(dir);
        WeightSource bound = null;
        try {
            ModelConfig config = ModelConfig.fromHfConfig(dir.resolve("config.json"), weights.checkpoint().config());
            Tokenizer tokenizer = Tokenizers.fromHfDirectory(dir);
            checkVocab(dir, config, tokenizer);
            String template = hfChatTemplate(dir);
            bound = transform.apply(config, weights);
            return new TransformerModel(config, closingBoth(bound, weights), tokenizer, template, dir, decorators.apply(config, bound));
        } catch (RuntimeException e) {
            if (bound != null) bound.close();
            weights.close();
            throw e;
        }
    }

    /** {@code bound}, or when a transform replaced the checkpoint's source, one whose close() also closes the checkpoint. */
    private static WeightSource closingBoth(WeightSource bound, WeightSource checkpoint) {
        if (bound == checkpoint) return bound;
        return new WeightSource() {
            @Override
            public java.util.Set<String> names() {
                return bound.names();
            }

            @Override
            public ai.autoglm.core.tensor.FloatTensor tensor(String name) {
                return bound.tensor(name);
            }

            @Override
            public long[] shape(String name) {
                return bound.shape(name);
            }

            @Override
            public ai.autoglm.core.tensor.FloatTensor expert(String name, int expert) {
                return bound.expert(name, expert); // the bound source's own expert views (an HF checkpoint's per-expert tensors)
            }

            @Override
            public void close() {
                try {
                    bound.close();
                } finally {
                    checkpoint.close();
                }
            }
        };
    }

    /** Token ids the tokenizer produces must have rows in the embedding (HF vocab_size may pad beyond it). */
    private static void checkVocab(Path file, ModelConfig config, Tokenizer tokenizer) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ModelFormatException(file, "tokenizer has " + tokenizer.vocabSize() + " tokens but the model only "
                    + config.vocabSize() + " embedding rows");
        }
    }

    /**
     * The HF chat template: {@code chat_template.jinja} (transformers >= 4.47 saves it separately), else
     * {@code tokenizer_config.json}'s {@code chat_template}, a string or a list of {@code {name, template}}
     * of which the one named {@code default} is used (transformers tokenization_utils_base.py).
     */
    static String hfChatTemplate(Path dir) {
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) return readSmall(jinja);
        Path tc = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(tc)) return null;
        JsonNode root;
        try {
            if (Files.size(tc) > 64L * MAX_TEMPLATE_BYTES) throw new ModelFormatException(tc, "implausibly large (" + Files.size(tc) + " bytes)");
            root = new ObjectMapper().readTree(ai.autoglm.core.format.LoadedFiles.readAllBytes(tc));
        } catch (IOException e) {
            throw new ModelFormatException(tc, "not valid JSON: " + e.getMessage(), e);
        }
        JsonNode t = root == null ? null : root.get("chat_template");
        if (t == null || t.isNull()) return null;
        if (t.isTextual()) return t.asText();
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) return named.get("template").asText();
            }
            if (!t.isEmpty() && t.get(0).path("template").isTextual()) return t.get(0).get("template").asText();
        }
        throw new ModelFormatException(tc, "chat_template is neither a string nor a list of {name, template}");
    }

    private static String readSmall(Path file) {
        try {
            if (Files.size(file) > MAX_TEMPLATE_BYTES) throw new ModelFormatException(file, "chat template larger than " + MAX_TEMPLATE_BYTES + " bytes");
            return ai.autoglm.core.format.LoadedFiles.readString(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }
}
