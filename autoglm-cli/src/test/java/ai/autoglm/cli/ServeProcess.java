package ai.autoglm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code autoglm serve ...} as a real process with its own environment (HF_* and AUTOGLM_* of this JVM removed, then
 * {@code env}), started until it prints its port, asked one chat completion, stopped.
 */
final class ServeProcess {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/v1");

    /** The chat answer's status and body, and the server's log up to then. */
    record Answer(int status, String body, String log) {
    }

    private ServeProcess() {
    }

    static Answer serveAndAsk(Map<String, String> env, String alias, String... serveArgs) throws Exception {
        Process p = CliProcess.builder(env, serveArgs(serveArgs)).start();
        StringBuilder log = new StringBuilder();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            String line;
            while ((line = r.readLine()) != null) {
                log.append(line).append('\n');
                Matcher m = SERVING.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    break;
                }
            }
            assertThat(port).as("serve did not start:\n" + log).isPositive();
            Thread drain = new Thread(() -> {
                try {
                    String l;
                    while ((l = r.readLine()) != null) {
                        synchronized (log) {
                            log.append(l).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                }
            });
            drain.setDaemon(true);
            drain.start();
            String body = "{\"model\":\"" + alias + "\",\"max_tokens\":4,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                synchronized (log) {
                    return new Answer(resp.statusCode(), resp.body(), log.toString());
                }
            }
        } finally {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    /** {@code autoglm serve ...} that is expected to exit by itself (a refused config): its exit code and output. */
    static Answer runToExit(Map<String, String> env, String... serveArgs) throws Exception {
        Process p = CliProcess.builder(env, serveArgs(serveArgs)).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
        return new Answer(p.exitValue(), "", out);
    }

    private static String[] serveArgs(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "serve";
        System.arraycopy(args, 0, all, 1, args.length);
        return all;
    }
}
