package ai.autoglm.client;

import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.BenchModels;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Not a test: a benchmark (bench/sdk/run.sh vs runs it) of the in-process SDK against {@code autoglm bench} on the
 * same model, prompt length, generation length and compute threads (issue 18: within 5%). The runs alternate
 * A B B A (A: {@code ./autoglm bench ... --json} in its own JVM, which warms up before it measures; B: the SDK
 * client in this JVM, warmed up once), each A and B run being {@code reps} measured requests.
 *
 * <p>What is compared: time to first token (bench: one prefill of P tokens and the greedy pick; SDK: submit to the
 * first token of a chat request whose templated prompt is P tokens) and decode tokens/s (bench: N single-token
 * forwards from an empty context; SDK: (completion tokens - 1) / (total - time to first token), the forwards after
 * the prompt, so the SDK's attention reads P more positions per token than bench's).
 *
 * <p>Usage: {@code SdkVsEngineBench MODEL|llama124m P N T [rounds] [reps]}; {@code llama124m} writes a random-weight
 * Llama of 124 M parameters (the serving benchmark's, bench/serve-java/WriteServeModel.java) in Q8_0 to a temp file.
 */
public final class SdkVsEngineBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** schedTtftMs: the scheduler's submit to first token; prefillMs: the forward of the prompt (SDK only). */
    record Run(double ttftMs, double tgTokS, int promptTokens, int genTokens, int cachedTokens, double schedTtftMs, double prefillMs) {
    }

    public static void main(String[] args) throws Exception {
        Path model = args[0].equals("llama124m") ? writeLlama124m() : Path.of(args[0]);
        int p = Integer.parseInt(args[1]), n = Integer.parseInt(args[2]), t = Integer.parseInt(args[3]);
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        int reps = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        ComputeThreads.set(t);
        try (InProcessClient client = AutoGLMClient.inProcess().model(model).slots(1).context(p + n + 16).open()) {
            // a different prompt for every request: the scheduler's prefix cache would otherwise skip the prefill
            List<ChatRequest> req = new ArrayList<>();
            for (int i = 0; i < 3 + 2 * rounds * reps; i++) req.add(request(client, p, n, i));
            for (int i = 0; i < 3; i++) client.chat(req.removeLast()); // JIT warm-up, as bench's own warm-up run
            List<Run> a = new ArrayList<>(), b = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                // A B B A: a slow drift of the shared machine's load touches both sides alike
                a.add(engine(model, p, n, t, reps));
                b.add(sdk(client, req, reps));
                b.add(sdk(client, req, reps));
                a.add(engine(model, p, n, t, reps));
            }
            for (int i = 0; i < a.size(); i++) {
                System.out.printf(Locale.ROOT, "run %d: autoglm bench ttft %.2f ms, tg %.2f tok/s | SDK in-process ttft %.2f ms (scheduler %.2f, prefill forward %.2f; prompt %d tokens, at most %d cached), tg %.2f tok/s (%d tokens)%n",
                        i + 1, a.get(i).ttftMs, a.get(i).tgTokS, b.get(i).ttftMs, b.get(i).schedTtftMs, b.get(i).prefillMs, b.get(i).promptTokens, b.get(i).cachedTokens, b.get(i).tgTokS, b.get(i).genTokens);
            }
            double at = median(a.stream().mapToDouble(Run::ttftMs).toArray()), bt = median(b.stream().mapToDouble(Run::ttftMs).toArray());
            double ag = median(a.stream().mapToDouble(Run::tgTokS).toArray()), bg = median(b.stream().mapToDouble(Run::tgTokS).toArray());
            System.out.printf(Locale.ROOT, "RESULT model=%s p=%d n=%d t=%d | ttft ms: bench %.2f, SDK %.2f, SDK/bench %.3f | tg tok/s: bench %.2f, SDK %.2f, SDK/bench %.3f%n",
                    model.getFileName(), p, n, t, at, bt, bt / at, ag, bg, bg / ag);
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

    static Run sdk(InProcessClient client, List<ChatRequest> req, int reps) {
        double[] ttft = new double[reps], tg = new double[reps], sched = new double[reps], prefill = new double[reps];
        int prompt = 0, gen = 0, cached = 0;
        for (int r = 0; r < reps; r++) {
            ChatResponse x = client.chat(req.removeLast());
            cached = Math.max(cached, x.usage().cachedPromptTokens());
            sched[r] = client.lastFirstTokenNanos.get() / 1e6;
            prefill[r] = client.lastPrefillStepNanos.get() / 1e6;
            double first = x.timing().timeToFirstToken().toNanos() / 1e6, total = x.timing().total().toNanos() / 1e6;
            ttft[r] = first;
            gen = x.usage().completionTokens();
            prompt = x.usage().promptTokens();
            tg[r] = (gen - 1) / ((total - first) / 1000);
        }
        // medians: on a loaded machine the reading thread is sometimes descheduled until most tokens are queued,
        // and one such request's (n - 1) / (total - ttft) is far off
        return new Run(median(ttft), median(tg), prompt, gen, cached, median(sched), median(prefill));
    }

    static Run engine(Path model, int p, int n, int t, int reps) throws IOException, InterruptedException {
        Process proc = new ProcessBuilder("./autoglm", "bench", "-m", model.toString(), "-p", "" + p, "-n", "" + n, "-t", "" + t,
                "-r", "" + reps, "--json").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (proc.waitFor() != 0) throw new IllegalStateException("autoglm bench failed: " + out);
        JsonNode j = JSON.readTree(out.lines().filter(l -> l.startsWith("{")).reduce((x, y) -> y).orElseThrow());
        return new Run(j.get("ttft_ms").asDouble(), j.get("tg").get("mean").asDouble(), p, n, 0, 0, 0);
    }

    private static Path writeLlama124m() throws IOException {
        Path out = Files.createTempFile("sdk-bench-llama124m-", ".gguf");
        out.toFile().deleteOnExit();
        BenchModels.writeLlama(new ModelFixtures.Spec("llama", 768, 12, 12, 4, 2048, 2048, 1e-5f, 10000.0, false, false, null, 1),
                GgmlType.Q8_0, out);
        return out;
    }


    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
