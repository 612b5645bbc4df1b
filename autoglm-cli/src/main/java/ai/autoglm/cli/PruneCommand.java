package ai.autoglm.cli;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.compress.prune.SparsityPlan;
import ai.autoglm.compress.prune.StructuredPlan;
import ai.autoglm.compress.prune.StructuredPruning;
import ai.autoglm.compress.prune.UnstructuredPruning;
import ai.autoglm.core.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code autoglm prune}: unstructured / 2:4 sparsity, structured removal of heads and MLP channels, layer dropping. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Prune a model and write it as GGUF.",
                "Unstructured (--method magnitude|wanda) and 2:4 zero weights in place (same file size);",
                "--heads / --kv-groups / --ffn-keep / --drop-layers remove structures and shrink the tensors."})
final class PruneCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    @Mixin
    ModelOption modelOption;

    @Parameters(index = "0", paramLabel = "OUT", description = "The GGUF file to write (temp file, then rename).")
    Path out;

    @Option(names = "--method", paramLabel = "METHOD", description = "magnitude, wanda or 2:4 (2:4 ranks by Wanda's score when --calib is given, else by magnitude).")
    String method;

    @Option(names = "--sparsity", defaultValue = "0.5", paramLabel = "S", description = "Share of weights zeroed, in [0, 1) (default ${DEFAULT-VALUE}; 2:4 is always 0.5).")
    double sparsity;

    @Option(names = "--tensors", paramLabel = "REGEX", description = "Tensors to sparsify (default: every block projection).")
    String tensors;

    @Option(names = "--heads", defaultValue = "0", paramLabel = "K", description = "Query heads removed per layer, the same number from each GQA group.")
    int heads;

    @Option(names = "--kv-groups", defaultValue = "0", paramLabel = "G", description = "Whole key/value groups (with their query heads) removed per layer.")
    int kvGroups;

    @Option(names = "--ffn-keep", defaultValue = "1", paramLabel = "X", description = "Share of MLP channels kept per layer, in (0, 1].")
    double ffnKeep;

    @Option(names = "--drop-layers", split = ",", paramLabel = "L,L", description = "Blocks to remove (0-based), e.g. 3,5.")
    List<Integer> dropLayers = List.of();

    @Option(names = "--calib", paramLabel = "F", description = "Calibration text (UTF-8) for Wanda and head/channel importance.")
    Path calib;

    @Option(names = "--calib-tokens", defaultValue = "4096", paramLabel = "N", description = "Calibration tokens used at most (default ${DEFAULT-VALUE}).")
    int calibTokens;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Path model = modelOption.path();
        StructuredPlan structured = new StructuredPlan(heads, kvGroups, ffnKeep, new TreeSet<>(dropLayers));
        SparsityPlan sparse = sparsityPlan();
        if (sparse == null && !structured.shrinksLayers() && structured.dropLayers().isEmpty()) {
            throw new IllegalArgumentException("nothing to do: give --method, --heads, --kv-groups, --ffn-keep or --drop-layers");
        }
        boolean needsCalib = structured.shrinksLayers() || (sparse != null && sparse.score() == SparsityPlan.Score.WANDA);
        if (needsCalib && calib == null) throw new IllegalArgumentException("--calib is required for Wanda and for removing heads or channels");
        String text = calib == null ? null : readText(calib);
        Path file = CompressCliSupport.modelPath(model);
        long start = System.nanoTime();
        try (GgufModel source = GgufModel.open(file)) {
            ModelConfig before = source.config();
            GgufModel m = source;
            if (structured.shrinksLayers() || !structured.dropLayers().isEmpty()) {
                ActivationStatistics stats = structured.shrinksLayers() ? Calibration.collect(m, text, calibTokens) : null;
                m = StructuredPruning.prune(m, structured, stats);
            }
            if (sparse != null) {
                ActivationStatistics stats = sparse.score() == SparsityPlan.Score.WANDA ? Calibration.collect(m, text, calibTokens) : null;
                m = UnstructuredPruning.prune(m, sparse, stats);
            }
            ModelConfig after = m.config();
            m.write(out);
            System.err.printf(Locale.ROOT, "layers %d -> %d, heads %d/%d -> %d/%d, ffn %d -> %d%s; wrote %s (%.1f MB) in %.1f s%n",
                    before.layers(), after.layers(), before.heads(), before.kvHeads(), after.heads(), after.kvHeads(),
                    before.ffnDim(), after.ffnDim(), sparse == null ? "" : ", " + describe(sparse),
                    out, Files.size(out) / 1e6, (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }

    private SparsityPlan sparsityPlan() {
        if (method == null) return null;
        SparsityPlan plan = switch (method.toLowerCase(Locale.ROOT)) {
            case "magnitude" -> SparsityPlan.unstructured(SparsityPlan.Score.MAGNITUDE, sparsity);
            case "wanda" -> SparsityPlan.unstructured(SparsityPlan.Score.WANDA, sparsity);
            case "2:4" -> SparsityPlan.twoFour(calib != null ? SparsityPlan.Score.WANDA : SparsityPlan.Score.MAGNITUDE);
            default -> throw new IllegalArgumentException("--method must be magnitude, wanda or 2:4; got '" + method + "'");
        };
        return tensors == null ? plan : plan.withTensors(CompressCliSupport.regex(tensors));
    }

    private static String describe(SparsityPlan p) {
        return p.pattern() == SparsityPlan.SparsityPattern.TWO_FOUR ? "2:4 by " + p.score().name().toLowerCase(Locale.ROOT)
                : String.format(Locale.ROOT, "%.0f%% %s sparsity", 100 * p.sparsity(), p.score().name().toLowerCase(Locale.ROOT));
    }

    private static String readText(Path f) throws Exception {
        if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString());
        // Lenient decoding (malformed bytes become U+FFFD): calibration text cut at a byte count often ends mid-character.
        return new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.UTF_8);
    }
}
