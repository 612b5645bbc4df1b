package ai.autoglm.client;

import ai.autoglm.server.AutoglmServer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Not a test: a benchmark (bench/sdk/run.sh runs it) of the SDK on the bundled model. Prints, per line: one thread's
 * tokens/s in-process, eight threads sharing one client (aggregate tokens/s), time to first token, and the same
 * streamed request in-process and through a loopback {@code autoglm serve} (the remote route's cost per token).
 */
public final class ThroughputBench {
    static final List<String> PROMPTS = SharedInProcessClientTest.PROMPTS;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int maxTokens = 64;
        try (InProcessClient client = AutoGLMClient.inProcess().bundledModel().slots(8).open()) {
            for (String p : PROMPTS) client.chat(req(p, maxTokens)); // warm-up (JIT)
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                long tokens = 0;
                double ttft = 0;
                for (String p : PROMPTS) {
                    ChatResponse a = client.chat(req(p, maxTokens));
                    tokens += a.usage().completionTokens();
                    ttft += a.timing().timeToFirstToken().toNanos() / 1e6;
                }
                double one = tokens / ((System.nanoTime() - t0) / 1e9);

                long t1 = System.nanoTime();
                long tokens8 = 0;
                try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                    List<Future<ChatResponse>> fs = new ArrayList<>();
                    for (String p : PROMPTS) fs.add(pool.submit(() -> client.chat(req(p, maxTokens))));
                    for (Future<ChatResponse> f : fs) tokens8 += f.get().usage().completionTokens();
                }
                double eight = tokens8 / ((System.nanoTime() - t1) / 1e9);
                System.out.printf("in-process: 1 thread %.0f tok/s (ttft %.1f ms avg), 8 threads %.0f tok/s aggregate (%.2fx), max decode rows/step %d%n",
                        one, ttft / PROMPTS.size(), eight, eight / one, client.maxDecodeRows.get());
            }
        }
        try (AutoglmServer server = TestServers.start(0);
             AutoGLMClient local = AutoGLMClient.inProcess().bundledModel().build();
             AutoGLMClient remote = TestServers.remote(server).build()) {
            ChatRequest req = req("月", 200);
            for (int i = 0; i < 3; i++) { drain(local, req); drain(remote, req); }
            for (int r = 0; r < rounds; r++) {
                double[] l = drain(local, req), m = drain(remote, req);
                System.out.printf("stream of %.0f tokens: in-process %.3f ms/token (ttft %.1f ms), remote over loopback %.3f ms/token (ttft %.1f ms): +%.3f ms/token%n",
                        l[2], l[0], l[1], m[0], m[1], m[0] - l[0]);
            }
        }
    }

    static ChatRequest req(String p, int maxTokens) {
        return ChatRequest.builder().system("你是诗人。").user(p).options(GenerationOptions.greedy().withMaxTokens(maxTokens)).build();
    }

    /** ms per token over the whole stream, ttft ms, tokens. */
    static double[] drain(AutoGLMClient c, ChatRequest req) {
        try (ChatStream s = c.stream(req)) {
            for (String ignored : s) {
                // read it all
            }
            ChatResponse r = s.response();
            int n = r.usage().completionTokens();
            return new double[]{r.timing().total().toNanos() / 1e6 / n, r.timing().timeToFirstToken().toNanos() / 1e6, n};
        }
    }
}
