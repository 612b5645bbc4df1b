package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

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
 * The `tiktoken` npm package (WASM build of OpenAI's Rust tiktoken, what ChatGLM4Tokenizer runs) driven through
 * {@code src/test/node/reference-tiktoken.js}.
 */
final class TiktokenReference {
    /** pat_str of THUDM/glm-4-9b-chat tokenization_chatglm.py, written out here independently of the main code. */
    static final String GLM4_PAT_STR = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    record Result(int[] ids, byte[] bytes) {
    }

    private TiktokenReference() {
    }

    /** Writes the ranks the package ships for {@code encoder} as a "base64 rank" file; returns how many. */
    static int export(String encoder, Path out) {
        return run(List.of("export", encoder, out.toString()), null).get("count").asInt();
    }

    static List<Result> encode(Path rankFile, Map<String, Integer> specialTokens, boolean special, List<String> texts) {
        JsonNode root = run(List.of("encode", rankFile.toString()),
                Map.of("pat_str", GLM4_PAT_STR, "special_tokens", specialTokens, "special", special, "texts", texts));
        List<Result> out = new ArrayList<>();
        for (JsonNode r : root.get("results")) {
            int[] ids = new int[r.get("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.get("ids").get(i).asInt();
            }
            byte[] bytes = new byte[r.get("bytes").size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) r.get("bytes").get(i).asInt();
            }
            out.add(new Result(ids, bytes));
        }
        return out;
    }

    private static JsonNode run(List<String> args, Object request) {
        Path dir = NodeReference.nodeDir();
        if (!Files.isDirectory(dir.resolve("node_modules/tiktoken"))) {
            fail("npm package tiktoken missing under " + dir + "/node_modules. Install it: cd " + dir + " && npm ci");
        }
        List<String> cmd = new ArrayList<>();
        String node = System.getenv("NODE");
        cmd.add(node != null && !node.isBlank() ? node : "node");
        cmd.add(dir.resolve("reference-tiktoken.js").toString());
        cmd.addAll(args);
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            try (OutputStream in = p.getOutputStream()) {
                if (request != null) {
                    in.write(NodeReference.JSON.writeValueAsBytes(request));
                }
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("reference-tiktoken.js timed out");
            }
            if (p.exitValue() != 0) {
                fail("reference-tiktoken.js failed (exit " + p.exitValue() + "): "
                        + new String(err.join(), StandardCharsets.UTF_8));
            }
            return NodeReference.JSON.readTree(out.join());
        } catch (IOException e) {
            fail("cannot run node for the tiktoken reference: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        throw new AssertionError("unreachable");
    }

    private static byte[] readAll(Process p) {
        try {
            return p.getInputStream().readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
