package ai.autoglm.cli;

import ai.autoglm.compress.lora.LoraMerge;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.ServerConfigFile;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 9's proof for LoRA, end to end on the bundled default model (GLM-4-shaped, trained on fortunes, knows no
 * task): {@code autoglm finetune} on a task the test generates (every answer is {@code 答：} + the question's first
 * character + {@code 。}) lowers the held-out loss; served by the real {@link AutoglmServer} with the adapter (the YAML
 * {@code lora:} key) and asked through the official openai-java client with greedy decoding, the model answers new
 * questions in the format, and the same model served without the adapter does not. The adapter it wrote, merged with
 * {@code autoglm lora merge}, gives the logits of applying it at load time.
 */
class LoraEndToEndTest {
    private static final String POOL = "山水月花风雪春秋云天人日夜江河松竹梅兰鸟鱼酒诗书琴剑心梦星海门路城楼";

    /** The bundled model (tests run in autoglm-cli/). */
    private static final Path MODEL = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf");

    @TempDir
    Path tmp;

    private static String question(Random r) {
        StringBuilder q = new StringBuilder();
        int n = 2 + r.nextInt(4);
        for (int i = 0; i < n; i++) q.append(POOL.charAt(r.nextInt(POOL.length())));
        return q.toString();
    }

    @Test
    void fineTunedAdapterMakesTheServedModelFollowTheFormat() throws Exception {
        Random r = new Random(5);
        Set<String> seen = new LinkedHashSet<>();
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            String q = question(r);
            seen.add(q);
            jsonl.append("{\"messages\": [{\"role\": \"user\", \"content\": \"").append(q)
                    .append("\"}, {\"role\": \"assistant\", \"content\": \"答：").append(q.charAt(0)).append("。\"}]}\n");
        }
        List<String> fresh = new ArrayList<>();
        while (fresh.size() < 6) {
            String q = question(r);
            if (!seen.contains(q)) fresh.add(q);
        }
        Path data = Files.writeString(tmp.resolve("task.jsonl"), jsonl.toString(), StandardCharsets.UTF_8);
        Path adapter = tmp.resolve("adapter");

        CliRunner.Result res = CliRunner.run("finetune", "--model", MODEL.toString(), "--data", data.toString(), "--lora-r", "8", "--lora-alpha", "16",
                "--target", "q,v", "--steps", "40", "--lr", "5e-3", "--batch", "8", "--seed", "1", adapter.toString());
        assertThat(res.exitCode()).as(res.err()).isZero();
        double before = number(res.out(), "held_out_loss_before"), after = number(res.out(), "held_out_loss_after");
        assertThat(after).as("held-out loss after vs before (%s)", res.err()).isLessThan(before - 2.0);
        assertThat(Files.readString(adapter.resolve("adapter_config.json"))).contains("\"q_proj\"", "\"v_proj\"", "\"r\" : 8");
        assertThat(PeftAdapter.read(adapter).modules()).containsKey("model.layers.0.self_attn.q_proj");

        // Served: base and base + adapter from one YAML config, asked by a real OpenAI client, greedy.
        Path yaml = Files.writeString(tmp.resolve("autoglm.yaml"), """
                models:
                  - alias: base
                    path: %s
                  - alias: tuned
                    path: %s
                    lora: adapter
                """.formatted(MODEL.toAbsolutePath(), MODEL.toAbsolutePath()));
        ServerConfig cfg = ServerConfigFile.read(yaml).withAddress("127.0.0.1", 0);
        int tunedOk = 0, baseOk = 0;
        List<String> answers = new ArrayList<>();
        try (AutoglmServer server = AutoglmServer.start(cfg)) {
            OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                    .apiKey("unused").maxRetries(0).build();
            try {
                for (String q : fresh) {
                    String tuned = ask(openai, "tuned", q), base = ask(openai, "base", q);
                    answers.add(q + " -> tuned " + tuned + " | base " + base);
                    if (tuned.startsWith("答：")) tunedOk++;
                    if (base.startsWith("答：")) baseOk++;
                }
            } finally {
                openai.close();
            }
        }
        assertThat(tunedOk).as("answers in the format with the adapter: %s", answers).isGreaterThanOrEqualTo(5);
        assertThat(baseOk).as("answers in the format without it: %s", answers).isZero();

        // Merged into the weights (F16, as the base) = applied at load time, within F16 rounding of the merged weights.
        Path merged = tmp.resolve("merged.gguf");
        res = CliRunner.run("lora", "merge", "--model", MODEL.toString(), "--lora", adapter.toString(), merged.toString());
        assertThat(res.exitCode()).as(res.err()).isZero();
        try (LanguageModel applied = ModelLoader.load(MODEL, LoadOptions.defaults().withLora(adapter));
             LanguageModel baked = ModelLoader.load(merged);
             LanguageModel plain = ModelLoader.load(MODEL)) {
            int[] prompt = Prompts.chat(applied, List.of(ChatMessage.user(fresh.getFirst())), true, null);
            float[] a = logits(applied, prompt), b = logits(baked, prompt), p = logits(plain, prompt);
            double scale = maxAbs(a);
            assertThat(maxDiff(a, b) / scale).as("merged vs applied at load").isLessThan(5e-3);
            assertThat(maxDiff(a, p) / scale).as("the adapter changes the logits").isGreaterThan(0.05);
        }
    }

    @Test
    void badTargetsAndDataAreUserErrors() throws Exception {
        Path data = Files.writeString(tmp.resolve("d.jsonl"), "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n");
        CliRunner.Result res = CliRunner.run("finetune", "--model", MODEL.toString(), "--data", data.toString(), "--target", "q", tmp.resolve("o").toString());
        assertThat(res.exitCode()).isEqualTo(2);
        assertThat(res.err()).contains("line 1", "no assistant message");
        Path good = Files.writeString(tmp.resolve("g.jsonl"), ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, "
                + "{\"role\": \"assistant\", \"content\": \"y\"}]}\n").repeat(3));
        res = CliRunner.run("finetune", "--model", MODEL.toString(), "--data", good.toString(), "--target", "qkv", tmp.resolve("o").toString());
        assertThat(res.exitCode()).isEqualTo(2);
        assertThat(res.err()).contains("separate q, k, v");
        res = CliRunner.run("run", "--model", MODEL.toString(), "--lora", tmp.resolve("none").toString(), "--prompt", "x");
        assertThat(res.exitCode()).isEqualTo(2);
        assertThat(res.err()).contains("none", "not a directory");
    }

    /**
     * The answer without its first line break: the bundled model's template is GLM-4's, whose generation prompt is
     * {@code <|assistant|>} and whose assistant turns are {@code <|assistant|>\n content} (the line break ends the turn
     * header, where a tool call puts the function name), so the tuned model writes "\n答：..." as glm-4-9b-chat does.
     */
    private static String ask(OpenAIClient openai, String model, String q) {
        String a = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(model).addUserMessage(q)
                .temperature(0.0).maxCompletionTokens(12).build()).choices().getFirst().message().content().orElse("");
        return a.startsWith("\n") ? a.substring(1) : a;
    }

    private static float[] logits(LanguageModel m, int[] prompt) {
        return m.forward(m.newState(prompt.length), prompt, 0, prompt.length, false).clone();
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static double number(String out, String key) {
        Matcher m = Pattern.compile(key + "=([0-9.eE+-]+)").matcher(out);
        assertThat(m.find()).as(key + " in " + out).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
