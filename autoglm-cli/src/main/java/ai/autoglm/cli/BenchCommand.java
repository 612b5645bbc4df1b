package ai.autoglm.cli;

import ai.autoglm.compress.eval.SpeedProbe;
import ai.autoglm.core.memory.ProcessMemory;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.VectorSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code autoglm bench}: prompt processing and generation speed, measured as llama-bench measures them
 * (llama.cpp tools/llama-bench): pp = one forward of {@code -p} prompt tokens from an empty context, tg =
 * {@code -n} single-token forwards from an empty context, each taking the logits and a greedy pick; one
 * unmeasured warm-up of each (here it also lets the JIT compile the kernels), then {@code -r} repetitions
 * reported as mean ± standard deviation. With {@code -d} both start from a context already holding that many tokens
 * (llama-bench's {@code -d, --n-depth}; filling it is not timed), e.g. to time decoding after a prompt. Token ids are fixed byte tokens, valid in every vocabulary.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (pp) and generation (tg) speed, like llama-bench.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOption modelOption;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", defaultValue = "128", description = "Prompt tokens per pp run (0 = skip pp; default ${DEFAULT-VALUE}).")
    int prompt;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", defaultValue = "64", description = "Generated tokens per tg run (0 = skip tg; default ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = {"-d", "--n-depth"}, paramLabel = "N", defaultValue = "0", description = "Tokens already in the context before each pp and tg run, as llama-bench's -d (default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "3", description = "Measured repetitions (default ${DEFAULT-VALUE}).")
    int reps;

    @Mixin
    ThreadsOption threads;

    @Mixin
    KvCacheOption kvCache;

    @Mixin
    KernelsOption kernels;

    @Option(names = "--bandwidth", description = "Measure main-memory read bandwidth (1 GiB buffer) with --threads threads instead of a model.")
    boolean bandwidth;

    @Option(names = "--token-times", description = "Also time each generated token: the first tg run of the process (unmeasured warm-up, after the warm-up pp when -p > 0) against the last measured one, to show the JIT warm-up of the first tokens.")
    boolean tokenTimes;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    /** Mean and sample standard deviation of tokens/s over the repetitions. */
    record Stat(double mean, double sd, double[] runs) {
        static Stat of(double[] v) {
            double m = 0;
            for (double x : v) m += x;
            m /= v.length;
            double ss = 0;
            for (double x : v) ss += (x - m) * (x - m);
            return new Stat(m, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0, v);
        }
    }

    @Override
    public Integer call() throws Exception {
        Path model = modelOption.orDefault();
        if (prompt < 0 || gen < 0 || prompt + gen == 0) throw new IllegalArgumentException("-p and -n must be >= 0 and not both 0");
        if (depth < 0) throw new IllegalArgumentException("-d must be >= 0, got " + depth);
        if (reps < 1) throw new IllegalArgumentException("-r must be at least 1, got " + reps);
        threads.apply();
        kernels.apply();
        if (bandwidth) {
            int t = threads.count();
            double bps = MemoryBandwidth.measure(1L << 30, t, 5);
            System.out.println(json ? String.format(Locale.ROOT, "{\"bandwidth_bytes_per_s\":%.0f,\"threads\":%d}", bps, t)
                    : String.format(Locale.ROOT, "memory read bandwidth, %d threads: %.2f GB/s", t, bps / 1e9));
            return 0;
        }
        var kvTypes = kvCache.types();
        if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
        long t0 = System.nanoTime();
        try (LanguageModel m = ModelLoader.load(model, ai.autoglm.core.model.LoadOptions.defaults().withKvCache(kvTypes))) {
            ai.autoglm.core.model.WarmUp.run(m); // as run, chat, serve and the SDK do: load_ms is the time until generation is ready
            double loadMs = (System.nanoTime() - t0) / 1e6;
            m.checkFits(depth + Math.max(prompt, gen), 0);
            InferenceState state = m.newState(depth + Math.max(prompt, gen));
            int[] tokens = new int[depth + Math.max(prompt, gen)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7919 + 13) % 256;

            if (prompt > 0) pp(m, state, tokens);
            if (gen > 0) {
                if (tokenTimes) freshTokens = SpeedProbe.decodeTokenSeconds(m, state, tokens, depth, gen);
                else tg(m, state, tokens);
            }
            double[] pp = new double[reps], tg = new double[reps], ttft = new double[reps];
            for (int r = 0; r < reps; r++) {
                if (prompt > 0) {
                    double s = pp(m, state, tokens);
                    pp[r] = prompt / s;
                    ttft[r] = s * 1000;
                }
                if (gen > 0 && tokenTimes) {
                    warmTokens = SpeedProbe.decodeTokenSeconds(m, state, tokens, depth, gen);
                    tg[r] = gen / java.util.Arrays.stream(warmTokens).sum();
                } else if (gen > 0) {
                    tg[r] = gen / tg(m, state, tokens);
                }
            }
            long bytes = Files.isDirectory(model) ? dirSize(model) : Files.size(model);
            this.bytesPerToken = weightBytesPerToken(m);
            print(m, bytes, loadMs, prompt > 0 ? Stat.of(pp) : null, gen > 0 ? Stat.of(tg) : null, prompt > 0 ? Stat.of(ttft) : null);
            return 0;
        }
    }

    private long bytesPerToken;

    /** --token-times: seconds per token of the process's first tg run and of the last measured one. */
    private double[] freshTokens, warmTokens;

    /** Tokens reported one by one from the start of a run (the rest as their mean). */
    static final int FIRST_TOKENS = 8;

    /** {"fresh_ms":[...],"steady_ms":[...]} or, as text, the first tokens in ms and the mean of the rest, per run. */
    private String tokenTimesText(boolean asJson) {
        if (asJson) return String.format(Locale.ROOT, "{\"fresh_ms\":%s,\"steady_ms\":%s}", msList(freshTokens, freshTokens.length), msList(warmTokens, warmTokens.length));
        return "per-token ms, tokens 1-" + Math.min(FIRST_TOKENS, gen) + " then the mean of the rest:\n  first tg run of the process: "
                + msList(freshTokens, FIRST_TOKENS) + restMean(freshTokens) + "\n  last measured tg run:        " + msList(warmTokens, FIRST_TOKENS) + restMean(warmTokens);
    }

    private static String msList(double[] s, int n) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, s.length); i++) b.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.2f", s[i] * 1000));
        return b.append(']').toString();
    }

    private static String restMean(double[] s) {
        if (s.length <= FIRST_TOKENS) return "";
        double sum = 0;
        for (int i = FIRST_TOKENS; i < s.length; i++) sum += s[i];
        return String.format(Locale.ROOT, " then %.2f", sum / (s.length - FIRST_TOKENS) * 1000);
    }

    /**
     * Weight bytes one decode step reads: every matrix once except the token embedding, of which one row is read
     * (the roofline numerator in bench/RESULTS.md). -1 when the weights are not a {@link TransformerModel}'s.
     */
    private static long weightBytesPerToken(LanguageModel m) {
        if (!(m instanceof TransformerModel tm)) return -1;
        long total = 0;
        for (String name : tm.weights().names()) {
            FloatTensor t = tm.weights().tensor(name);
            long b = t.type().bytesFor(t.size());
            total += name.equals("token_embd.weight") && tm.weights().tensor("output.weight") != null
                    ? b / m.config().vocabSize() : b;
        }
        return total;
    }

    /** Seconds for one forward of the prompt after {@link #depth} context tokens (0: an empty context), up to the greedy pick of the next token. */
    private double pp(LanguageModel m, InferenceState state, int[] tokens) {
        return SpeedProbe.prefillSeconds(m, state, tokens, depth, prompt);
    }

    /** Seconds for {@code gen} single-token forwards after {@link #depth} context tokens, each followed by a greedy pick. */
    private double tg(LanguageModel m, InferenceState state, int[] tokens) {
        return SpeedProbe.decodeSeconds(m, state, tokens, depth, gen);
    }

    /**
     * Which kernels the model's matrix products run, by weight type: "native avx512vnni (Q4_K, Q6_K)", "vector (F16)"
     * (F32 norms and biases left out; "vector"/"scalar" alone when the weights are not a {@link TransformerModel}'s).
     */
    static String kernelsUsed(LanguageModel m) {
        if (!(m instanceof TransformerModel tm)) return VectorSupport.ENABLED ? "vector" : "scalar";
        java.util.Map<String, java.util.SortedSet<String>> byKernel = new java.util.TreeMap<>();
        for (String name : tm.weights().names()) {
            ai.autoglm.core.tensor.GgmlType type = tm.weights().tensor(name).type();
            if (type == ai.autoglm.core.tensor.GgmlType.F32) continue;
            byKernel.computeIfAbsent(ai.autoglm.core.tensor.KernelChoice.describe(type), k -> new java.util.TreeSet<>()).add(type.name());
        }
        if (byKernel.isEmpty()) return VectorSupport.ENABLED ? "vector" : "scalar";
        java.util.List<String> parts = new java.util.ArrayList<>();
        byKernel.forEach((k, types) -> parts.add(k + " (" + String.join(", ", types) + ")"));
        return String.join(", ", parts);
    }

    private void print(LanguageModel m, long bytes, double loadMs, Stat pp, Stat tg, Stat ttft) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        long peakRss = ProcessMemory.peakResidentBytes();
        int t = ComputeThreads.count();
        String kernels = kernelsUsed(m);
        if (json) {
            StringBuilder b = new StringBuilder("{");
            b.append(String.format(Locale.ROOT, "\"engine\":\"autoglm\",\"model\":\"%s\",\"arch\":\"%s\",\"size_bytes\":%d,\"threads\":%d,\"n_depth\":%d,\"kernels\":\"%s\",\"vector_bits\":%d,\"load_ms\":%.1f,\"peak_rss_bytes\":%d,\"weight_bytes_per_token\":%d",
                    jsonEscape(modelOption.orDefault().toString()), m.config().architecture().ggufName(), bytes, t, depth, kernels, VectorSupport.floatVectorBits(), loadMs, peakRss, bytesPerToken));
            if (m instanceof TransformerModel tm) {
                b.append(String.format(Locale.ROOT, ",\"cache_type_k\":\"%s\",\"cache_type_v\":\"%s\"",
                        tm.kvCacheTypes().keys().llamaName(), tm.kvCacheTypes().values().llamaName()));
            }
            if (pp != null) b.append(",\"pp\":").append(json(pp, prompt)).append(String.format(Locale.ROOT, ",\"ttft_ms\":%.1f", ttft.mean()));
            if (tg != null) b.append(",\"tg\":").append(json(tg, gen));
            if (tg != null && tokenTimes) b.append(",\"token_times\":").append(tokenTimesText(true));
            out.println(b.append('}'));
            return;
        }
        out.printf(Locale.ROOT, "model: %s (%s, %.2f GiB)  threads: %d  kernels: %s  vector: %d-bit  load: %.0f ms  peak RSS: %.2f GiB%s%n",
                modelOption.orDefault(), m.config().architecture().ggufName(), bytes / 1073741824.0, t, kernels, VectorSupport.floatVectorBits(), loadMs, peakRss / 1073741824.0,
                m instanceof TransformerModel tm ? "  KV cache: " + tm.kvCacheTypes() : "");
        out.println("| test   |            t/s |");
        out.println("| ------ | -------------: |");
        if (pp != null) out.printf(Locale.ROOT, "| pp%-4d | %7.2f ± %5.2f |%n", prompt, pp.mean(), pp.sd());
        if (tg != null) out.printf(Locale.ROOT, "| tg%-4d | %7.2f ± %5.2f |%n", gen, tg.mean(), tg.sd());
        if (ttft != null) out.printf(Locale.ROOT, "time to first token (pp%d): %.1f ms%n", prompt, ttft.mean());
        if (tg != null && tokenTimes) out.println(tokenTimesText(false));
    }

    private static String json(Stat s, int tokens) {
        StringBuilder runs = new StringBuilder("[");
        for (int i = 0; i < s.runs().length; i++) runs.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", s.runs()[i]));
        return String.format(Locale.ROOT, "{\"tokens\":%d,\"mean\":%.3f,\"sd\":%.3f,\"runs\":%s]}", tokens, s.mean(), s.sd(), runs);
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static long dirSize(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
