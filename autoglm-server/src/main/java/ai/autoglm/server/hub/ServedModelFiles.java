package ai.autoglm.server.hub;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.ProcessKind;
import ai.autoglm.core.quant.ModelQuantizer;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.quant.ServeQuantization;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.hub.DerivedStore;
import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.ModelRef;
import ai.autoglm.core.hub.PullListener;
import ai.autoglm.core.hub.PulledModel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.server.security.ModelFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Turns what {@code serve --model} (or a config's {@code model:}) names into the file the server opens: a path is
 * used as is; a model name is found in the Hugging Face cache or pulled ({@link ModelPuller#resolve}), and with
 * {@code quantize} a safetensors model is converted and quantized once into the derived store (keyed by the
 * commit and the type), so the next start opens that GGUF directly instead of quantizing in memory again.
 */
public final class ServedModelFiles {
    private static final Logger LOG = Logger.getLogger(ServedModelFiles.class.getName());

    private ServedModelFiles() {
    }

    /** The file to serve and the load-time quantization left to do (null once a derived GGUF holds it). */
    public record Prepared(Path path, String quantize, String displayName) {
    }

    /**
     * The file to serve for a path or a model name; with {@code --quantize} on a pulled safetensors checkpoint, the
     * type is chosen for the serving memory of {@code slots} sequences of {@code context} positions in KV caches of
     * {@code kvTypes} (a q8_0 cache leaves room for better weights than the f32 default) and the file derived once.
     */
    public static Prepared prepare(String model, String quantize, Integer context, int slots, KvCacheTypes kvTypes, Supplier<MemoryBudget> budget,
                                   ModelPuller puller, String source, PullListener listener) throws IOException {
        // a word that is not a quantization fails here, before a download of gigabytes rather than after it
        if (quantize != null) quantize = ServeQuantization.parseOption(quantize, "--quantize (or a config's quantize:)");
        if (!ModelNames.isName(model)) return new Prepared(Path.of(model), quantize, Path.of(model).getFileName().toString());
        ModelRef ref = ModelNames.parse(model, source);
        PulledModel m = puller.resolve(ref, source, listener);
        if (quantize == null || !m.isSafetensors()) return new Prepared(m.modelPath(), quantize, model);
        ServeQuantization.Decision d = ServeQuantization.decide(quantize, m.snapshot(), context, slots, budget, kvTypes, ProcessKind.SERVER);
        LOG.info(() -> "model " + model + ": " + d.reason());
        if (d.type() == null) return new Prepared(m.snapshot(), null, model);
        if (Files.exists(ModelFiles.manifestPath(m.snapshot()))) {
            // A signed model: a derived GGUF would carry no signature, so with --trust it would be refused. The signed
            // snapshot is served and quantized in memory at load, after the registry verified it (ModelRegistry).
            LOG.info(() -> "model " + model + ": signed (" + ModelFiles.DIRECTORY_MANIFEST + "), so the signed files are served and quantized to "
                    + d.type().name().toLowerCase(Locale.ROOT) + " in memory at load instead of from a derived file");
            return new Prepared(m.snapshot(), d.type().name().toLowerCase(Locale.ROOT), model);
        }
        String recipe = d.type().name().toLowerCase(Locale.ROOT);
        DerivedStore store = new DerivedStore(puller.settings().store());
        boolean had = store.has(ref, m.commit(), recipe);
        Path gguf = store.getOrCreate(ref, m.commit(), recipe, out -> {
            if (d.type() == GgmlType.F16) {
                HfToGgufConverter.convert(m.snapshot(), out, GgmlType.F16);
            } else {
                ModelQuantizer.quantizeFile(m.snapshot(), out, new QuantizationOptions(QuantPreset.parse(recipe), List.of(), false), null, null, null);
            }
        });
        LOG.info(() -> "model " + model + ": " + (had ? "reusing " : "converted and quantized once to ") + gguf + " (" + size(gguf) + " bytes)");
        return new Prepared(gguf, null, model);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }
}
