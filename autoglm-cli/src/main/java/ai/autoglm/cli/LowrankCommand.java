package ai.autoglm.cli;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.lowrank.LowRankFactorization;
import ai.autoglm.compress.lowrank.LowRankPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code autoglm lowrank}: truncated-SVD factors of chosen projections, run by the engine as two matmuls. */
@Command(name = "lowrank", mixinStandardHelpOptions = true,
        description = {"Factorise projections by truncated SVD into two tensors (X.lr_a.weight, X.lr_b.weight).",
                "The file loads in this engine only (llama.cpp does not know the factor tensors)."})
final class LowrankCommand implements Callable<Integer> {
    @Mixin
    ModelOption modelOption;

    @Parameters(index = "0", paramLabel = "OUT", description = "The GGUF file to write (temp file, then rename).")
    Path out;

    @Option(names = "--rank", paramLabel = "R", description = "Rank of every chosen tensor.")
    Integer rank;

    @Option(names = "--energy", paramLabel = "E", description = "Keep the smallest rank holding this share of squared singular values, in (0, 1].")
    Double energy;

    @Option(names = "--tensors", paramLabel = "REGEX", description = "Tensors to factorise (default: every block projection).")
    String tensors;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        Path model = modelOption.path();
        if ((rank == null) == (energy == null)) throw new IllegalArgumentException("give exactly one of --rank and --energy");
        LowRankPlan plan = rank != null ? LowRankPlan.ofRank(rank) : LowRankPlan.ofEnergy(energy);
        if (tensors != null) plan = plan.withTensors(CompressCliSupport.regex(tensors));
        long start = System.nanoTime();
        try (GgufModel source = GgufModel.open(CompressCliSupport.modelPath(model))) {
            LowRankFactorization.Result res = LowRankFactorization.apply(source, plan);
            for (LowRankFactorization.Factored f : res.tensors()) {
                System.err.printf(Locale.ROOT, "%-28s %5d x %-5d rank %5d  energy %.4f  size x%.2f%s%n", f.name(), f.rows(), f.cols(),
                        f.rank(), f.energyKept(), f.sizeRatio(), f.sizeRatio() >= 1 ? "  (larger than the dense tensor)" : "");
            }
            res.model().write(out);
            System.err.printf(Locale.ROOT, "factorised %d tensors; wrote %s (%.1f MB) in %.1f s%n", res.tensors().size(), out,
                    Files.size(out) / 1e6, (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }
}
