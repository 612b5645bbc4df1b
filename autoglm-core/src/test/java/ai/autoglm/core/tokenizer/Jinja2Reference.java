package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The reference renderer: CPython's jinja2 configured as transformers configures it, run by
 * {@code src/test/python/render_chat_template.py}. Many cases go to one python process (JSON on stdin).
 */
final class Jinja2Reference {

    static final Path SCRIPT = Path.of("src/test/python/render_chat_template.py");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One rendering request; messages and tools are plain JSON-shaped maps (as a client would send them). */
    record Case(String template, List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                boolean addGenerationPrompt, String bosToken, String eosToken, Map<String, Object> extra,
                String now) {}

    /** The outcome: text, or the Python exception (type: message). */
    record Result(String text, String error) {}

    private Jinja2Reference() {}

    static List<Result> render(List<Case> cases) {
        if (!Files.isRegularFile(SCRIPT)) {
            throw new AssertionError("reference script missing: " + SCRIPT.toAbsolutePath());
        }
        List<Map<String, Object>> requests = new ArrayList<>();
        for (Case c : cases) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("template", c.template());
            r.put("messages", c.messages());
            r.put("tools", c.tools());
            r.put("add_generation_prompt", c.addGenerationPrompt());
            r.put("bos_token", c.bosToken());
            r.put("eos_token", c.eosToken());
            r.put("extra", c.extra());
            r.put("now", c.now());
            requests.add(r);
        }
        try {
            Process p = new ProcessBuilder("python3", SCRIPT.toString()).redirectErrorStream(false).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(JSON.writeValueAsBytes(Map.of("cases", requests)));
            }
            byte[] out = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("python reference renderer did not finish");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("python reference renderer failed (exit " + p.exitValue()
                    + "; needs python3 with jinja2 >= 3.1): " + err);
            }
            JsonNode results = JSON.readTree(out).get("results");
            List<Result> list = new ArrayList<>();
            for (JsonNode r : results) {
                list.add(new Result(r.has("text") ? r.get("text").asText() : null,
                    r.has("error") ? r.get("error").asText() : null));
            }
            return list;
        } catch (IOException e) {
            throw new AssertionError("cannot run python3 (needed for the jinja2 reference renderer): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Result render(Case c) {
        return render(List.of(c)).get(0);
    }
}
