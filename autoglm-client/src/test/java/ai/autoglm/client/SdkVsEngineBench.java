package ai.autoglm.client;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.BenchModels;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Not a test: the benchmark behind issue 18's "in-process SDK within 5% of {@code autoglm bench}" and "remote vs
 * in-process overhead per token" (bench/sdk/run.sh runs it; results in bench/sdk/RESULTS.md).
 *
 * <p><b>{@code vs MODEL|llama124m P N T ROUNDS REPS}</b>: both sides run the same way, so that what differs is the SDK:
 * <ul>
 *   <li>each run is a fresh JVM with the same flags ({@code $AUTOGLM_JVM_FLAGS}, what {@code ./autoglm} starts with)
 *       and the same compute threads T, doing one unmeasured warm-up (bench: one pp and one tg; SDK: one request),
 *       then {@link #DROPPED} repetitions that are dropped as well, then REPS measured ones;</li>
 *   <li>A is {@code ./autoglm bench -m MODEL -p P -n N -t T --json} (its pp: from an empty context) and, in a second
 *       JVM, the same with {@code -d P} (its tg: after P context tokens); B is this class's {@code sdk} mode:
 *       an in-process client, one slot, REPS greedy chat requests of N tokens whose templated prompt is P tokens (a
 *       different prompt each time, so the prefix cache cannot skip the prefill);</li>
 *   <li>time to first token: A one forward of P tokens and the greedy pick; B {@code chat()}'s submit to first token
 *       (template, tokenizing, scheduler, the same prefill, sampling): the SDK's own cost is in the difference;</li>
 *   <li>decode tokens/s: A N single-token forwards after P context tokens ({@code -d P}, llama-bench's n_depth); B
 *       (completion - 1) / (total - time to first token), the N - 1 forwards after the prompt: the same attention
 *       length;</li>
 *   <li>the runs alternate A B B A for ROUNDS rounds, so a drift of the shared machine's load touches both sides
 *       alike; reported: every run, each side's median with quartiles and range over all its repetitions, and the
 *       ratio SDK/bench per round (medians of that round's two runs of each side) with its median and range.</li>
 * </ul>
 *
 * <p><b>{@code remote MODEL|llama124m N T ROUNDS}</b>: the per-token cost of the remote route. One JVM holds a loopback
 * {@code autoglm serve} of the model (HTTP, SSE, JSON) and an in-process client of the same model; the same greedy
 * streamed request of N tokens goes in-process and remote in the order L R R L per round, after 2 warm-up requests
 * each. Per request: time to first token and decode ms/token (total - ttft) / (completion - 1); reported per side
 * (median, quartiles, range) and the paired differences remote - in-process per round.
 *
 * <p>{@code llama124m} writes a random-weight Llama of 124 M parameters (the serving benchmark's shape) in Q8_0 to
 * a temp file: random weights rarely stop early, so every request generates its N tokens.
 */
public final class SdkVsEngineBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Repetitions each run does after its built-in warm-up and drops, on both sides alike: one warm-up request is
     * not enough for C2 to have compiled the prefill kernels (a first try had bench's pp times fall from 150 to 50 ms
     * over its 5 repetitions of the bundled model). 2 were not enough for the SDK's JVM, which compiles far more code
     * (template, tokenizer, sampler, scheduler, client): on 2 shared cores its compiler threads still spent 200-900 ms
     * per request on the bundled model up to the 10th request, taking the cores from the forward pass, and the SDK's
     * decode rose from ~100 to ~700 tok/s over those requests while bench's settled after 3 (bench/sdk/RESULTS.md).
     */
    static final int DROPPED = 10;

    /** One run's repetitions. */
    record Run(String side, double[] ttftMs, double[] tgTokS, int promptTokens, int genTokens) {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "vs" -> vs(model(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            case "sdk" -> sdkChild(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]));
            case "remote" -> remote(model(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException("mode must be vs, sdk or remote, got " + args[0]);
        }
    }

    private static Path model(String arg) throws IOException {
        return arg.equals("llama124m") ? writeLlama124m() : Path.of(arg);
    }

    // ------------------------------------------------------------------ vs: SDK in-process against autoglm bench

    static void vs(Path model, int p, int n, int t, int rounds, int reps) throws Exception {
        List<Run> a = new ArrayList<>(), b = new ArrayList<>();
        double[] ttftRatio = new double[rounds], tgRatio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            Run a1 = engine(model, p, n, t, reps), b1 = sdk(model, p, n, t, reps), b2 = sdk(model, p, n, t, reps), a2 = engine(model, p, n, t, reps);
            for (Run x : List.of(a1, b1, b2, a2)) print(r + 1, x);
            a.add(a1);
            a.add(a2);
            b.add(b1);
            b.add(b2);
            ttftRatio[r] = median(concat(b1.ttftMs, b2.ttftMs)) / median(concat(a1.ttftMs, a2.ttftMs));
            tgRatio[r] = median(concat(b1.tgTokS, b2.tgTokS)) / median(concat(a1.tgTokS, a2.tgTokS));
        }
        double[] at = pool(a, Run::ttftMs), bt = pool(b, Run::ttftMs), ag = pool(a, Run::tgTokS), bg = pool(b, Run::tgTokS);
        System.out.printf(Locale.ROOT, "SUMMARY model=%s p=%d n=%d t=%d rounds=%d reps=%d (each side %d runs, %d repetitions)%n",
                model.getFileName(), p, n, t, rounds, reps, a.size(), at.length);
        System.out.println("  ttft ms   bench " + spread(at) + " | SDK " + spread(bt));
        System.out.println("  tg tok/s  bench " + spread(ag) + " | SDK " + spread(bg));
        System.out.printf(Locale.ROOT, "  SDK/bench per round: ttft %s (median %.3f, range %.3f-%.3f) | tg %s (median %.3f, range %.3f-%.3f)%n",
                fmt(ttftRatio), median(ttftRatio), min(ttftRatio), max(ttftRatio), fmt(tgRatio), median(tgRatio), min(tgRatio), max(tgRatio));
    }

    private static void print(int round, Run x) {
        System.out.printf(Locale.ROOT, "round %d %-5s ttft ms %s | tg tok/s %s (prompt %d, generated %d)%n",
                round, x.side, fmt(x.ttftMs), fmt(x.tgTokS), x.promptTokens, x.genTokens);
    }

    /**
     * A: {@code ./autoglm bench} in its own JVMs (the launcher's flags): pp of P tokens from an empty context (the
     * SDK's prefill), then in a second JVM tg of N tokens after P context tokens (llama-bench's -d applies to pp as
     * well, so the two cannot share one run).
     */
    static Run engine(Path model, int p, int n, int t, int reps) throws IOException, InterruptedException {
        // both JVMs run pp and tg (so each warms up as the SDK's warm-up request does: a prefill and N decode steps);
        // the first gives the pp from an empty context, the second the tg after P context tokens
        JsonNode pp = runJson(List.of("./autoglm", "bench", "-m", model.toString(), "-p", "" + p, "-n", "" + n,
                "-t", "" + t, "-r", "" + (reps + DROPPED), "--json"));
        JsonNode tgj = runJson(List.of("./autoglm", "bench", "-m", model.toString(), "-p", "" + p, "-n", "" + n, "-d", "" + p,
                "-t", "" + t, "-r", "" + (reps + DROPPED), "--json"));
        double[] ttft = new double[reps], tg = new double[reps];
        for (int i = 0; i < reps; i++) {
            ttft[i] = p / pp.get("pp").get("runs").get(DROPPED + i).asDouble() * 1000;
            tg[i] = tgj.get("tg").get("runs").get(DROPPED + i).asDouble();
        }
        return new Run("bench", ttft, tg, p, n);
    }

    /** B: this class's {@code sdk} mode in its own JVM, with the flags {@code ./autoglm} uses. */
    static Run sdk(Path model, int p, int n, int t, int reps) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String flags = System.getenv("AUTOGLM_JVM_FLAGS");
        if (flags == null || flags.isBlank()) throw new IllegalStateException("AUTOGLM_JVM_FLAGS is not set: source scripts/java-env.sh");
        cmd.addAll(Arrays.asList(flags.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SdkVsEngineBench.class.getName(),
                "sdk", model.toString(), "" + p, "" + n, "" + t, "" + (reps + DROPPED)));
        JsonNode j = runJson(cmd);
        double[] ttft = new double[reps], tg = new double[reps];
        for (int i = 0; i < reps; i++) {
            ttft[i] = j.get("ttft_ms").get(DROPPED + i).asDouble();
            tg[i] = j.get("tg").get(DROPPED + i).asDouble();
        }
        return new Run("SDK", ttft, tg, j.get("prompt_tokens").asInt(), j.get("gen_tokens").asInt());
    }

    /** The child side of {@link #sdk}: one warm-up request, then {@code reps} measured ones; one JSON line. */
    static void sdkChild(Path model, int p, int n, int t, int reps) {
        ComputeThreads.set(t);
        try (InProcessClient client = AutoGLMClient.inProcess().model(model).slots(1).context(p + n + 16).open()) {
            // the prompts are built before the warm-up: building one tokenizes its text once per character, garbage
            // and compilation that must not land inside a measured request (bench has no such work between its runs)
            List<ChatRequest> prompts = new ArrayList<>();
            for (int i = 0; i < reps + 1 + Math.max(4, reps / 2); i++) prompts.add(request(client, p, n, i));
            int variant = 0;
            client.chat(prompts.get(variant++)); // warm-up, as bench's unmeasured pp and tg
            StringBuilder ttft = new StringBuilder(), tg = new StringBuilder();
            int prompt = 0, gen = 0;
            for (int r = 0; r < reps; r++) {
                ChatResponse x;
                // a new prompt each time; only answers that run the full n tokens count (a few prompts of the bundled
                // model end early at an end-of-turn token, and 1 token / (time after the first) is not a decode rate)
                do {
                    if (variant > 10 * (reps + 1)) throw new IllegalStateException("too few prompts generate " + n + " tokens");
                    x = client.chat(variant < prompts.size() ? prompts.get(variant) : request(client, p, n, variant));
                    variant++;
                } while (x.usage().completionTokens() != n);
                double first = x.timing().timeToFirstToken().toNanos() / 1e6, total = x.timing().total().toNanos() / 1e6;
                gen = x.usage().completionTokens();
                prompt = x.usage().promptTokens();
                ttft.append(r > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", first));
                tg.append(r > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", (gen - 1) / ((total - first) / 1000)));
            }
            System.out.printf(Locale.ROOT, "{\"ttft_ms\":[%s],\"tg\":[%s],\"prompt_tokens\":%d,\"gen_tokens\":%d}%n", ttft, tg, prompt, gen);
        }
    }

    /** A chat request whose templated prompt is p tokens (or the nearest the tokenizer allows), greedy, n tokens. */
    static ChatRequest request(InProcessClient client, int p, int n, int variant) {
        ChatRequest probe = build("x", 1);
        int overhead = client.chat(probe).usage().promptTokens() - client.countTokens("x");
        int target = p - overhead;
        StringBuilder text = new StringBuilder();
        String pieces = "abcdefghijklmnopqrstuvwxyz0123456789 ";
        for (int i = 0; client.countTokens(text.toString()) < target && i < 100 * p; i++) {
            char c = pieces.charAt((i * 7 + variant * 13 + (i == 0 ? variant : 0)) % pieces.length());
            text.append(c);
            if (client.countTokens(text.toString()) > target) text.setLength(text.length() - 1);
        }
        return build(text.toString(), n);
    }

    private static ChatRequest build(String text, int n) {
        return ChatRequest.builder().user(text).options(GenerationOptions.greedy().withMaxTokens(n)).build();
    }

    private static JsonNode runJson(List<String> cmd) throws IOException, InterruptedException {
        Process proc = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (proc.waitFor() != 0) throw new IllegalStateException(cmd.get(0) + " " + cmd.get(cmd.size() - 1) + " failed: " + out);
        return JSON.readTree(out.lines().filter(l -> l.startsWith("{")).reduce((x, y) -> y).orElseThrow());
    }

    // ------------------------------------------------------------------ remote: the HTTP route's cost per token

    static void remote(Path model, int n, int t, int rounds) {
        ComputeThreads.set(t);
        String alias = "bench";
        try (AutoglmServer server = TestServers.start(0, List.of(new ModelSpec(alias, model, n + 64, 1, null, null)));
             AutoGLMClient local = AutoGLMClient.inProcess().model(model).slots(1).context(n + 64).build();
             AutoGLMClient remote = AutoGLMClient.remote().baseUrl(TestServers.url(server)).model(alias).build()) {
            ChatRequest req = ChatRequest.builder().user("the weather today").options(GenerationOptions.greedy().withMaxTokens(n)).build();
            for (int i = 0; i < 2; i++) {
                drain(local, req);
                drain(remote, req);
            }
            List<double[]> l = new ArrayList<>(), m = new ArrayList<>();
            double[] perToken = new double[rounds], ttft = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                double[] l1 = drain(local, req), r1 = drain(remote, req), r2 = drain(remote, req), l2 = drain(local, req);
                for (double[] x : List.of(l1, r1, r2, l2)) {
                    System.out.printf(Locale.ROOT, "round %d %-10s ttft %.2f ms, decode %.3f ms/token (%d tokens)%n",
                            r + 1, x == r1 || x == r2 ? "remote" : "in-process", x[0], x[1], (int) x[2]);
                }
                l.add(l1);
                l.add(l2);
                m.add(r1);
                m.add(r2);
                perToken[r] = (r1[1] + r2[1]) / 2 - (l1[1] + l2[1]) / 2;
                ttft[r] = (r1[0] + r2[0]) / 2 - (l1[0] + l2[0]) / 2;
            }
            double[] lt = l.stream().mapToDouble(x -> x[0]).toArray(), mt = m.stream().mapToDouble(x -> x[0]).toArray();
            double[] ld = l.stream().mapToDouble(x -> x[1]).toArray(), md = m.stream().mapToDouble(x -> x[1]).toArray();
            System.out.printf(Locale.ROOT, "SUMMARY remote model=%s n=%d t=%d rounds=%d (%d requests per side)%n",
                    model.getFileName(), n, t, rounds, lt.length);
            System.out.println("  ttft ms          in-process " + spread(lt) + " | remote " + spread(mt));
            System.out.println("  decode ms/token  in-process " + spread(ld) + " | remote " + spread(md));
            System.out.printf(Locale.ROOT, "  remote - in-process per round: decode ms/token %s (median %.3f, range %.3f-%.3f) | ttft ms %s (median %.2f)%n",
                    fmt(perToken), median(perToken), min(perToken), max(perToken), fmt(ttft), median(ttft));
        }
    }

    /** ttft ms, decode ms per token after the first, tokens. */
    static double[] drain(AutoGLMClient c, ChatRequest req) {
        try (ChatStream s = c.stream(req)) {
            for (String ignored : s) {
                // read it all, as an application streaming to its user would
            }
            ChatResponse r = s.response();
            int n = r.usage().completionTokens();
            double first = r.timing().timeToFirstToken().toNanos() / 1e6, total = r.timing().total().toNanos() / 1e6;
            return new double[]{first, (total - first) / Math.max(1, n - 1), n};
        }
    }

    // ------------------------------------------------------------------ models and statistics

    private static Path writeLlama124m() throws IOException {
        Path out = Files.createTempFile("sdk-bench-llama124m-", ".gguf");
        out.toFile().deleteOnExit();
        BenchModels.writeLlama(new ModelFixtures.Spec("llama", 768, 12, 12, 4, 2048, 2048, 1e-5f, 10000.0, false, false, null, 1),
                GgmlType.Q8_0, out);
        return out;
    }

    private interface Values {
        double[] of(Run r);
    }

    private static double[] pool(List<Run> runs, Values v) {
        return runs.stream().flatMapToDouble(r -> Arrays.stream(v.of(r))).toArray();
    }

    private static double[] concat(double[] x, double[] y) {
        double[] out = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }

    /** "median [p25-p75] (min-max)". */
    private static String spread(double[] v) {
        return String.format(Locale.ROOT, "%.2f [%.2f-%.2f] (%.2f-%.2f)", median(v), quantile(v, 0.25), quantile(v, 0.75), min(v), max(v));
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(b.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", x));
        return b.toString();
    }

    static double median(double[] v) {
        return quantile(v, 0.5);
    }

    /** Linear interpolation between order statistics (numpy's default, "type 7"). */
    static double quantile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        double at = q * (s.length - 1);
        int lo = (int) Math.floor(at), hi = (int) Math.ceil(at);
        return s[lo] + (s[hi] - s[lo]) * (at - lo);
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }
}
