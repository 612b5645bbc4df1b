package ai.autoglm.cli;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.auto.CandidateBuilder;
import ai.autoglm.compress.auto.CompressionSpace;
import ai.autoglm.compress.auto.MeasuringTrialRunner;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.compress.eval.EvalSettings;
import ai.autoglm.compress.eval.QualityEvaluator;
import ai.autoglm.compress.report.CompressionReport;
import ai.autoglm.compress.search.CompressionSearch;
import ai.autoglm.compress.search.Constraints;
import ai.autoglm.compress.search.Measurement;
import ai.autoglm.compress.search.Objective;
import ai.autoglm.compress.search.SearchResult;
import ai.autoglm.compress.search.SearchStrategy;
import ai.autoglm.compress.search.Trial;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code autoglm compress}: searches quantization types per tensor group and structured MLP pruning for the best model
 * (lowest mean KL divergence from the original) whose runtime memory at the target context fits the budget, building
 * and measuring every trial ({@link MeasuringTrialRunner}); writes the chosen model and report.json / report.html
 * with every trial and the Pareto front. Never writes a model over the budget: when no trial meets the constraints it
 * names the closest one and exits 2.
 */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Search quantization and pruning for the best model that fits a memory budget; every trial is built and measured.")
final class CompressCommand implements java.util.concurrent.Callable<Integer> {
    private static final double MIB = 1024.0 * 1024.0;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--memory-budget-mb", paramLabel = "MB",
            description = "Required. Runtime memory budget in MiB: weights + KV cache at --memory-ctx + working buffers + the JVM (as serve --quantize auto counts it).")
    Double budgetMb;

    @Option(names = "--budget-mb", hidden = true, paramLabel = "MB", description = "Deprecated spelling of --memory-budget-mb.")
    void deprecatedBudgetMb(double mb) {
        budgetMb = Deprecation.alias("--budget-mb", "--memory-budget-mb", mb);
    }

    @Option(names = "--memory-ctx", paramLabel = "N", description = "KV positions the memory is judged at (default: min(4096, the model's context)).")
    Integer context;

    @Option(names = "--context", hidden = true, paramLabel = "N", description = "Deprecated spelling of --memory-ctx.")
    void deprecatedContext(int n) {
        context = Deprecation.alias("--context", "--memory-ctx", n);
    }

    @Option(names = "--max-kld", paramLabel = "X", description = "Largest mean KL divergence from the original model accepted.")
    Double maxKld;

    @Option(names = "--min-top1", paramLabel = "Y", description = "Smallest top-1 agreement with the original model accepted, in [0, 1].")
    Double minTop1;

    @Option(names = "--search", paramLabel = "S", defaultValue = "bayes", description = "grid, random or bayes (default ${DEFAULT-VALUE}).")
    String search;

    @Option(names = "--trials", paramLabel = "K", defaultValue = "20", description = "Candidates to build and measure (default ${DEFAULT-VALUE}).")
    int trials;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the random and bayes searches (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--calib", paramLabel = "F", required = true, description = "Calibration text (UTF-8): MLP channel importance for pruning.")
    Path calib;

    @Option(names = "--calib-tokens", paramLabel = "N", defaultValue = "4096", description = "Calibration tokens used at most (default ${DEFAULT-VALUE}).")
    int calibTokens;

    @Option(names = "--eval-text", paramLabel = "F", description = "Held-out text every trial is evaluated on (default: the calibration text).")
    Path evalText;

    @Option(names = "--eval-ctx", paramLabel = "N", description = "Evaluation window in tokens, as eval --ctx (default: min(512, the model's context)).")
    int evalCtx; // no defaultValue: picocli would apply it after the hidden --ctx alias set the field

    @Option(names = "--ctx", hidden = true, paramLabel = "N", description = "Deprecated spelling of --eval-ctx.")
    void deprecatedCtx(int n) {
        evalCtx = Deprecation.alias("--ctx", "--eval-ctx", n);
    }

    @Option(names = "--chunks", paramLabel = "K", defaultValue = "0", description = "Evaluate at most K windows per trial, as eval --chunks (default: all).")
    int chunks;

    @Option(names = "--types", paramLabel = "T,...", split = ",", description = "Types searched per group (default: f16,q8_0,q6_k,q5_k,q4_k,q4_0).")
    List<String> types;

    @Option(names = "--ffn-keep", paramLabel = "R,...", split = ",", description = "MLP keep ratios searched (default: 1.0,0.875,0.75).")
    List<Double> ffnKeep;

    @Option(names = "--report", paramLabel = "DIR", description = "Where report.json and report.html go (default: OUT.report/ next to the output).")
    Path report;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Parameters(index = "0", paramLabel = "OUT", description = "The chosen model (GGUF), written only when a trial meets the constraints.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path model = modelOption.path();
        threads.apply();
        if (budgetMb == null) throw new IllegalArgumentException("--memory-budget-mb is required");
        if (!(budgetMb > 0)) throw new IllegalArgumentException("--memory-budget-mb must be positive, got " + budgetMb);
        if (trials < 1) throw new IllegalArgumentException("--trials must be at least 1, got " + trials);
        if (calibTokens < 1) throw new IllegalArgumentException("--calib-tokens must be positive, got " + calibTokens);
        if (context != null && context < 1) throw new IllegalArgumentException("--memory-ctx must be positive, got " + context);
        if (Files.isDirectory(out)) throw new IllegalArgumentException("output " + out + " is a directory; name the .gguf file to write");
        Path modelPath = DefaultModel.orDefault(model);
        for (Path p : new Path[]{modelPath, calib, evalText}) if (p != null && !Files.exists(p)) throw new NoSuchFileException(p.toString());
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        String calibText = EvalCommand.readText(calib);
        String evalContent = evalText != null ? EvalCommand.readText(evalText) : calibText;
        if (evalText == null) err.println("autoglm compress: no --eval-text: trials are evaluated on the calibration text (not held out)");
        Constraints constraints = new Constraints(Math.round(budgetMb * MIB), maxKld, minTop1);
        SearchStrategy strategy = SearchStrategy.named(search, new Objective(constraints));
        Path outAbs = out.toAbsolutePath();
        Path reportDir = report != null ? report : outAbs.resolveSibling(outAbs.getFileName() + ".report");

        try (GgufModel base = GgufModel.open(modelPath)) {
            int ctx = Math.min(context != null ? context : 4096, base.config().contextLength());
            if (context != null && context > ctx) {
                err.printf("autoglm compress: --memory-ctx %d exceeds the model's context length; memory judged at %d%n", context, ctx);
            }
            CompressionSpace space = CompressionSpace.of(base,
                    types == null ? CompressionSpace.DEFAULT_TYPES : types.stream().map(CompressionSpace::parseType).toList(),
                    ffnKeep == null ? CompressionSpace.DEFAULT_FFN_KEEP : ffnKeep);
            err.printf(Locale.ROOT, "autoglm compress: %s, %d candidates (%s), budget %.1f MiB at context %d, %s search, %d trials%n",
                    modelPath, space.searchSpace().size(), describe(space), budgetMb, ctx, search, trials);
            ActivationStatistics stats = Calibration.collect(base, calibText, calibTokens);
            CandidateBuilder builder = new CandidateBuilder(base, stats);
            QualityEvaluator evaluator = new QualityEvaluator(EvalSettings.defaults().withContext(evalCtx).withMaxWindows(chunks), line -> { });
            Files.createDirectories(outAbs.getParent());
            Path work = Files.createTempDirectory(outAbs.getParent(), "." + outAbs.getFileName() + ".trials-");
            SearchResult result;
            try (LanguageModel baseModel = ModelLoader.load(modelPath);
                 MeasuringTrialRunner runner = new MeasuringTrialRunner(space, builder, baseModel, modelPath.toString(), evaluator,
                         evalContent, ctx, constraints, work)) {
                CompressionSearch searchRun = new CompressionSearch(space.searchSpace(), strategy, constraints);
                List<Trial> failures = new ArrayList<>();
                try (ProgressBar bar = new ProgressBarBuilder().setTaskName("compress").setInitialMax(Math.min(trials, space.searchSpace().size()))
                        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build()) {
                    bar.setExtraMessage("building trial 1");
                    result = searchRun.run(runner, trials, seed, (t, planned) -> {
                        if (!t.measured()) failures.add(t);
                        bar.maxHint(planned);
                        bar.step();
                        bar.setExtraMessage(runner.best().map(b -> String.format(Locale.ROOT, "best #%d %.1f MiB KLD %.5f",
                                b.number(), b.measurement().memoryBytes() / MIB, b.measurement().meanKld())).orElse("none fits yet"));
                    });
                }
                for (Trial f : failures) err.printf("autoglm compress: trial %d (%s) failed: %s%n", f.number(), f.candidate().key(), f.error());
                CompressionReport.write(reportDir, new CompressionReport.Header(modelPath.toString(), search, ctx, constraints), result);
                if (result.chosen().isEmpty()) throw new IllegalArgumentException(noResult(result, constraints, ctx, reportDir));
                Trial chosen = result.chosen().get();
                runner.moveBestTo(chosen, out);
                PrintStream o = new PrintStream(System.out, true, StandardCharsets.UTF_8);
                o.printf(Locale.ROOT, "chosen: trial %d of %d: %s%n", chosen.number(), result.trials().size(), chosen.candidate().key());
                o.println("  " + figures(chosen.measurement()));
                o.printf("wrote %s; report in %s (report.json, report.html)%n", out, reportDir);
            }
        }
        return 0;
    }

    private static String describe(CompressionSpace space) {
        StringBuilder b = new StringBuilder();
        space.searchSpace().dimensions().forEach(d -> b.append(b.isEmpty() ? "" : "; ").append(d.name()).append(' ').append(String.join("/", d.options())));
        return b.toString();
    }

    static String figures(Measurement m) {
        return String.format(Locale.ROOT, "memory %.1f MiB (file %.1f MiB), mean KLD %.6f, p99 KLD %.6f, max KLD %.6f, top-1 %.2f%%, ppl %.4f, tg %.1f tok/s",
                m.memoryBytes() / MIB, m.fileBytes() / MIB, m.meanKld(), m.p99Kld(), m.maxKld(), 100 * m.top1(), m.perplexity(), m.tokensPerSecond());
    }

    /** Why there is no result, with the closest trial, for the one-line user error. */
    static String noResult(SearchResult r, Constraints c, int ctx, Path reportDir) {
        long measured = r.trials().stream().filter(Trial::measured).count();
        if (measured == 0) {
            return "no trial could be built or measured (first error: " + r.trials().getFirst().error() + "); nothing written";
        }
        boolean anyFits = r.trials().stream().filter(Trial::measured).anyMatch(t -> c.fitsBudget(t.measurement()));
        StringBuilder b = new StringBuilder();
        if (!anyFits) {
            b.append(String.format(Locale.ROOT, "no trial fits the budget of %.1f MiB at context %d", c.budgetBytes() / MIB, ctx));
        } else {
            b.append(String.format(Locale.ROOT, "no trial within the budget of %.1f MiB reached", c.budgetBytes() / MIB));
            if (c.maxMeanKld() != null) b.append(" --max-kld ").append(c.maxMeanKld());
            if (c.maxMeanKld() != null && c.minTop1() != null) b.append(" and");
            if (c.minTop1() != null) b.append(" --min-top1 ").append(c.minTop1());
            Optional<Trial> bestIn = r.trials().stream().filter(Trial::measured).filter(t -> c.fitsBudget(t.measurement()))
                    .min(java.util.Comparator.comparingDouble(t -> t.measurement().meanKld()));
            bestIn.ifPresent(t -> b.append(String.format(Locale.ROOT, " (lowest mean KLD within the budget: %.6f, trial %d)", t.measurement().meanKld(), t.number())));
        }
        r.closest().ifPresent(t -> b.append("; closest: trial ").append(t.number()).append(" (").append(t.candidate().key()).append("): ")
                .append(figures(t.measurement())));
        b.append(String.format(Locale.ROOT, "; %d trials in %s; no model written", r.trials().size(), reportDir));
        return b.toString();
    }
}
