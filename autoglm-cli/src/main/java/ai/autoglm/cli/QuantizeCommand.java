package ai.autoglm.cli;

import ai.autoglm.compress.imatrix.ImatrixFiles;
import ai.autoglm.core.quant.ImportanceMatrix;
import ai.autoglm.core.quant.ModelQuantizer;
import ai.autoglm.core.quant.ModelShape;
import ai.autoglm.core.quant.PlannedTensor;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.quant.QuantizationPlan;
import ai.autoglm.core.quant.QuantizationPlanner;
import ai.autoglm.core.quant.TensorTypeOverride;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.GgufWeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code autoglm quantize}: llama-quantize's file types and per-tensor rules, optionally importance-weighted. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize an F32/F16/BF16 GGUF or a Hugging Face directory to a GGUF that this engine and llama.cpp load.")
final class QuantizeCommand implements Callable<Integer> {
    @Mixin
    ModelOption modelOption;

    @Option(names = "--type", required = true, paramLabel = "T",
            description = "q8_0, q4_0, q4_1, q5_0, q5_1, q4_k (= q4_k_m), q4_k_s, q5_k (= q5_k_m), q5_k_s or q6_k.")
    String type;

    @Option(names = "--tensor-type", paramLabel = "REGEX=TYPE",
            description = "Give tensors whose GGUF name matches REGEX (a search, e.g. attn_v or 'blk\\.0\\.') this type "
                    + "(f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k); repeatable, the first match wins.")
    List<String> tensorTypes = new ArrayList<>();

    @Option(names = "--imatrix", paramLabel = "F", description = "Importance matrix (GGUF or legacy .dat, from autoglm imatrix or llama-imatrix).")
    Path imatrix;

    @Option(names = "--dry-run", description = "Print the plan (type and reason per tensor) and the size; write nothing.")
    boolean dryRun;

    @Option(names = {"-q", "--quiet"}, description = "No per-tensor lines on stderr.")
    boolean quiet;

    @Option(names = "--spool-dir", paramLabel = "DIR", description = "Where the quantized tensors wait before the output is written "
            + "(about the output's size; deleted at the end, on Ctrl-C, and by the next run after a kill). Default: the temp "
            + "directory when it has room, else beside OUT.")
    Path spoolDir;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Parameters(index = "0", arity = "0..1", paramLabel = "OUT", description = "The GGUF file to write (atomically).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path model = modelOption.path();
        QuantPreset preset = QuantPreset.parse(type);
        List<TensorTypeOverride> overrides = new ArrayList<>();
        for (String t : tensorTypes) overrides.add(TensorTypeOverride.parse(t));
        Path source = DefaultModel.orDefault(model);
        if (!Files.exists(source)) throw new NoSuchFileException(source.toString());
        ImportanceMatrix im = null;
        if (imatrix != null) {
            if (!Files.isRegularFile(imatrix)) throw new NoSuchFileException(imatrix.toString());
            im = ImatrixFiles.read(imatrix);
            System.err.printf(Locale.ROOT, "imatrix: %d entries from %s, %d chunks%n", im.entries().size(), imatrix, im.chunkCount());
        }
        QuantizationOptions options = new QuantizationOptions(preset, overrides, im != null);
        if (dryRun) {
            if (Files.isDirectory(source)) throw new IllegalArgumentException("--dry-run needs a GGUF model (convert the directory first)");
            try (GgufFile g = GgufFile.open(source)) {
                QuantizationPlan plan = QuantizationPlanner.plan(ModelShape.of(g.metadata(), new GgufWeightSource(g)), options);
                System.out.print(plan.describe());
                System.out.printf(Locale.ROOT, "%s: %.2f MiB -> %.2f MiB (%.2f bits per weight)%n", preset,
                        plan.sourceBytes() / 1048576.0, plan.outputBytes() / 1048576.0, plan.bitsPerWeight());
            }
            return 0;
        }
        if (out == null) throw new IllegalArgumentException("OUT (the GGUF file to write) is required unless --dry-run");
        if (Files.isDirectory(out)) throw new IllegalArgumentException(out + " is a directory; OUT must be a file name");
        long start = System.nanoTime();
        ModelQuantizer.Progress progress = quiet ? null : QuantizeCommand::printTensor;
        QuantizationPlan plan = ModelQuantizer.quantizeFile(source, out, options, im, imatrix, spoolDir, progress);
        System.err.printf(Locale.ROOT, "wrote %s: %s, %.2f MiB -> %.2f MiB (%.2f bits per weight) in %.1f s%n", out, preset,
                plan.sourceBytes() / 1048576.0, plan.outputBytes() / 1048576.0, plan.bitsPerWeight(), (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** One line per tensor, in the spirit of llama-quantize's log. */
    private static void printTensor(int index, int total, PlannedTensor t, boolean imatrix, long nanos) {
        System.err.printf(Locale.ROOT, "[%3d/%3d] %-32s %-14s %5s -> %-5s %8.3f -> %8.3f MiB%s  %s%n", index, total, t.name(),
                Arrays.toString(t.shape()), lower(t.sourceType()), lower(t.targetType()), t.sourceBytes() / 1048576.0,
                t.outputBytes() / 1048576.0, imatrix ? " imatrix" : "", t.reason());
    }

    private static String lower(Object o) {
        return o.toString().toLowerCase(Locale.ROOT);
    }
}
