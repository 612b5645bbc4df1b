package ai.autoglm.examples;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.ChatResponse;
import ai.autoglm.client.GenerationOptions;
import ai.autoglm.client.ModelSize;

import java.time.Duration;

/**
 * Server first, the bundled model when the server cannot answer. The server is the first argument or AUTOGLM_URL
 * (default http://127.0.0.1:8000, e.g. `./autoglm serve`); with none running, the answers say they came from the
 * local model and why.
 */
public class HybridClientExample {
    public static void main(String[] args) {
        String url = args.length > 0 ? args[0] : System.getenv().getOrDefault("AUTOGLM_URL", "http://127.0.0.1:8000");

        // the builder of the project's original description
        try (AutoGLMClient client = new AutoGLMClient.Builder()
                .enableOfflineMode(true)          // keep working without the network
                .setModelSize(ModelSize.LITE)     // the small local model
                .setServerUrl(url)
                .build()) {
            String summary = client.generate("请总结以下会议记录要点", "会议决定下周一发布新版本，测试由小王负责。");
            System.out.println("summary: " + summary);
        }

        // the same with every knob in reach
        try (AutoGLMClient client = AutoGLMClient.hybrid()
                .remote(AutoGLMClient.remote().baseUrl(url).apiKey(System.getenv("AUTOGLM_API_KEY"))
                        .connectTimeout(Duration.ofSeconds(2)))
                .local(AutoGLMClient.inProcess().bundledModel())
                .probeInterval(Duration.ofSeconds(5))
                .build()) {
            for (int i = 0; i < 2; i++) {
                ChatResponse r = client.chat(ChatRequest.builder().user("月").options(GenerationOptions.greedy().withMaxTokens(24)).build());
                System.out.println("answer " + i + " [" + r.route().kind() + ": " + r.route().reason() + "]: " + r.content());
            }
        }
    }
}
