package ai.autoglm.compress;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ProjectionDecorator;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model as GGUF metadata plus named tensors: what the compression steps (pruning, low-rank factorisation) take and
 * return, what can be run in memory ({@link #load}) to measure it, and what is written as a GGUF file ({@link #write}).
 * A model opened from a file owns it ({@link #close} unmaps it); models derived from it with {@link #derive} share the
 * mapping and must not outlive it.
 */
public final class GgufModel implements AutoCloseable {
    private final Path origin;
    private final Map<String, GgufValue> metadata;
    private final WeightSource weights;
    private final AutoCloseable owned;

    private GgufModel(Path origin, Map<String, GgufValue> metadata, WeightSource weights, AutoCloseable owned) {
        this.origin = origin;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.weights = weights;
        this.owned = owned;
    }

    /** A model over tensors in memory or owned elsewhere (closing it closes nothing). */
    public static GgufModel of(Path origin, Map<String, GgufValue> metadata, WeightSource weights) {
        return new GgufModel(origin != null ? origin : Path.of("(in-memory model)"), metadata, weights, null);
    }

    /**
     * Opens a GGUF file, or a Hugging Face directory converted first to a temporary F32 GGUF (deleted once mapped:
     * Linux keeps the mapping alive), so every step downstream sees one naming and one metadata layout.
     */
    public static GgufModel open(Path path) {
        if (!Files.exists(path)) throw new ModelFormatException(path, "no such file or directory");
        Path file = path;
        Path temp = null;
        if (Files.isDirectory(path)) {
            try {
                temp = Files.createTempFile("autoglm-hf-", ".gguf");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary file: " + e.getMessage(), e);
            }
            HfToGgufConverter.convert(path, temp, GgmlType.F32);
            file = temp;
        }
        try {
            GgufFile gguf = GgufFile.open(file);
            return new GgufModel(path, gguf.metadata(), new GgufWeightSource(gguf), gguf);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    /** A model with other metadata and tensors, sharing this one's file (closing it closes nothing). */
    public GgufModel derive(Map<String, GgufValue> newMetadata, WeightSource newWeights) {
        return new GgufModel(origin, newMetadata, newWeights, null);
    }

    public Path origin() {
        return origin;
    }

    /** The metadata, unmodifiable, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public WeightSource weights() {
        return weights;
    }

    /** {@code general.architecture}. */
    public String architecture() {
        GgufValue v = metadata.get(GgufKeys.ARCHITECTURE);
        if (v == null || !(v.value() instanceof String s)) throw new ModelFormatException(origin, "missing metadata key general.architecture");
        return s;
    }

    /** The architecture-prefixed key, e.g. {@code key("block_count")} = {@code llama.block_count}. */
    public String key(String suffix) {
        return architecture() + "." + suffix;
    }

    /** The hyper-parameters as the engine reads them from this metadata and these tensors. */
    public ModelConfig config() {
        return ModelConfig.fromGguf(origin, metadata, weights);
    }

    /**
     * This model in the engine, in memory (no file written), with every projection passed through {@code decorator}
     * (calibration statistics, masks). Closing the result leaves this model's file mapped.
     */
    public LanguageModel load(ProjectionDecorator decorator) {
        WeightSource view = EditedWeights.of(weights);
        GgufValue template = metadata.get(GgufKeys.CHAT_TEMPLATE);
        return new TransformerModel(ModelConfig.fromGguf(origin, metadata, view), view, Tokenizers.fromGguf(metadata, origin),
                template != null && template.value() instanceof String s ? s : null, origin, decorator);
    }

    /** Writes this model as a GGUF file, atomically (see {@link GgufModelWriter}). */
    public void write(Path out) {
        GgufModelWriter.write(this, out);
    }

    @Override
    public void close() {
        if (owned == null) return;
        try {
            owned.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot close " + origin + ": " + e.getMessage(), e);
        }
    }
}
