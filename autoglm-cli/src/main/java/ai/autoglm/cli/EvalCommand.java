package ai.autoglm.cli;

import ai.autoglm.compress.eval.EvalSettings;
import ai.autoglm.compress.eval.QualityEvaluator;
import ai.autoglm.compress.eval.QualityReport;
import ai.autoglm.compress.eval.QualityReportFormat;
import ai.autoglm.core.quant.InMemoryQuantizer;
import ai.autoglm.core.quant.ServeQuantization;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code autoglm eval}: perplexity as llama-perplexity computes it and, with {@code --base}, the KL divergence and
 * top-1 agreement of the model's next-token distribution against the base's (see {@link QualityEvaluator}), plus
 * pp/tg speed and peak memory.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Perplexity, KL divergence from a base model, top-1 agreement, speed and peak memory on a text (like llama-perplexity).")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOption modelOption;

    @Option(names = "--base", paramLabel = "B", description = "The reference model (same tokenizer), e.g. the unquantized original.")
    Path base;

    @Option(names = {"-f", "--text"}, paramLabel = "F", required = true, description = "UTF-8 text to evaluate on (held out from training).")
    Path text;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N", defaultValue = "0",
            description = "Tokens per window (default: min(512, the model's context)); the second half of each window is scored.")
    int ctx;

    @Option(names = "--chunks", paramLabel = "K", defaultValue = "0", description = "Evaluate at most K windows (default: all).")
    int chunks;

    @Mixin
    ThreadsOption threads;

    @Mixin
    KvCacheOption kvCache;

    @Option(names = "--base-cache-type-k", paramLabel = "TYPE", description = "KV cache type of the keys of --base (default f32), e.g. f16 to measure --cache-type-k against it.")
    String baseCacheTypeK;

    @Option(names = "--base-cache-type-v", paramLabel = "TYPE", description = "KV cache type of the values of --base (default f32).")
    String baseCacheTypeV;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the model's F32/F16/BF16 weights in memory before evaluating: f16, q8_0, q4_0 or q4_k (as serve --quantize).")
    String quantize;

    @Option(names = "--no-speed", description = "Skip the pp/tg speed measurement.")
    boolean noSpeed;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws IOException {
        Path model = modelOption.path();
        threads.apply();
        if (chunks < 0) throw new IllegalArgumentException("--chunks must be >= 0, got " + chunks);
        if (ctx < 0) throw new IllegalArgumentException("--ctx must be >= 0, got " + ctx);
        Path modelPath = DefaultModel.orDefault(model);
        for (Path p : new Path[]{modelPath, base, text}) if (p != null && !Files.exists(p)) throw new NoSuchFileException(p.toString());
        String content = readText(text);
        EvalSettings settings = EvalSettings.defaults().withContext(ctx).withMaxWindows(chunks).withSpeedRepetitions(noSpeed ? 0 : 2);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        GgmlType target = null;
        if (quantize != null) {
            ServeQuantization.Decision d = ServeQuantization.decide(ServeQuantization.parseOption(quantize, "--quantize"), modelPath, null, 1,
                    () -> { throw new IllegalArgumentException("--quantize auto is for serve; name a type"); },
                    ai.autoglm.core.model.KvCacheTypes.DEFAULT, ai.autoglm.core.memory.ProcessKind.CLI);
            target = d.type();
            err.println("autoglm eval: " + d.reason());
        }
        var kvTypes = kvCache.types();
        var baseKvTypes = ai.autoglm.core.model.KvCacheTypes.parse(baseCacheTypeK, baseCacheTypeV);
        QualityReport report;
        try (LanguageModel m = ModelLoader.load(modelPath, ai.autoglm.core.model.LoadOptions.defaults()
                .withWeights(InMemoryQuantizer.transform(target)).withKvCache(kvTypes));
             LanguageModel b = base != null ? ModelLoader.load(base, ai.autoglm.core.model.LoadOptions.defaults().withKvCache(baseKvTypes)) : null) {
            err.printf("autoglm eval: %s%s on %s%n", modelPath, base != null ? " against " + base : "", text);
            String name = modelPath + (quantize != null && target != null ? " (" + quantize + " in memory)" : "")
                    + (kvTypes.equals(ai.autoglm.core.model.KvCacheTypes.DEFAULT) ? "" : " (KV cache " + kvTypes + ")");
            report = new QualityEvaluator(settings, line -> err.println("autoglm eval: " + line))
                    .evaluate(m, name, b, base != null ? base + (baseKvTypes.equals(ai.autoglm.core.model.KvCacheTypes.DEFAULT) ? ""
                            : " (KV cache " + baseKvTypes + ")") : null, content);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.print(json ? QualityReportFormat.json(report) + "\n" : QualityReportFormat.table(report));
        return 0;
    }

    /** The file as UTF-8, invalid bytes replaced (fortune files are not all clean UTF-8). */
    static String readText(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new IllegalArgumentException("--text " + file + " is a directory, expected a text file");
        byte[] bytes = Files.readAllBytes(file);
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes)).toString();
    }
}
