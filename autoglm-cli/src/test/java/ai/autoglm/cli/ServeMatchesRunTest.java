package ai.autoglm.cli;

import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code autoglm serve} as the command line configures it, on the bundled model (real trained weights, real GLM-4
 * tokenizer and chat template, Chinese text): greedy answers streamed through the server are exactly what
 * {@code autoglm run} prints for the same model and prompt, plain and with {@code --chat}, and no streamed piece
 * carries a broken character.
 */
class ServeMatchesRunTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path MODEL = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf");
    static final int N = 40;

    @TempDir
    Path home; // the data directory serve creates: not the user's ~/.autoglm

    @Test
    void greedyServerOutputEqualsAutoglmRunAndChineseStreamsWhole() throws Exception {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--model", MODEL.toString(), "--alias", "glm", "--port", "0", "--slots", "2", "--ctx", "256",
                "--home", home.toString());
        ServerConfig config = serve.resolve();
        assertThat(config.models().getFirst().slots()).isEqualTo(2);
        assertThat(config.host()).isEqualTo("127.0.0.1");
        try (AutoglmServer server = AutoglmServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port() + "/v1";
            for (String prompt : new String[]{"床前明月光", "The best way to"}) {
                String run = runOutput("run", "--model", MODEL.toString(), "--prompt", prompt, "--temperature", "0",
                        "-n", Integer.toString(N), "--ctx", "256", "--quiet");
                assertThat(run).isNotBlank();
                if (prompt.startsWith("床")) assertThat(run.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN)).as(run).isTrue();
                ObjectNode completion = JSON.createObjectNode().put("model", "glm").put("prompt", prompt)
                        .put("temperature", 0).put("max_tokens", N).put("stream", true);
                assertThat(streamed(base + "/completions", completion, "text")).as(prompt).isEqualTo(run);

                String chatRun = runOutput("run", "--model", MODEL.toString(), "--chat", "--prompt", prompt,
                        "--temperature", "0", "-n", Integer.toString(N), "--ctx", "256", "--quiet");
                assertThat(chatRun).isNotBlank();
                ObjectNode chat = JSON.createObjectNode().put("model", "glm").put("temperature", 0).put("max_tokens", N)
                        .put("stream", true);
                chat.putArray("messages").addObject().put("role", "user").put("content", prompt);
                assertThat(streamed(base + "/chat/completions", chat, "delta")).as("chat " + prompt).isEqualTo(chatRun);
            }
        }
    }

    private static String runOutput(String... args) {
        CliRunner.Result r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        String out = r.out();
        return out.endsWith(System.lineSeparator()) ? out.substring(0, out.length() - System.lineSeparator().length()) : out;
    }

    /** The streamed text, checking that every piece is whole UTF-8 text (a split character would arrive as U+FFFD). */
    private static String streamed(String url, ObjectNode body, String field) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            StringBuilder text = new StringBuilder();
            for (String event : r.body().split("\n\n")) {
                if (event.isBlank() || event.equals("data: [DONE]")) continue;
                JsonNode choice = JSON.readTree(event.substring("data: ".length())).get("choices").get(0);
                String piece = field.equals("delta") ? choice.get("delta").path("content").asText("") : choice.get("text").asText();
                assertThat(piece).doesNotContain("\uFFFD");
                assertThat(piece.isEmpty() || !Character.isLowSurrogate(piece.charAt(0))).isTrue();
                text.append(piece);
            }
            return text.toString();
        }
    }
}
