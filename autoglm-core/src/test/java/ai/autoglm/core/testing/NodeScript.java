package ai.autoglm.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a reference script of one of the npm test projects under {@code autoglm-core/src/test/<name>}
 * (package.json + package-lock.json; {@code npm ci} there installs it, {@code ./run-tests} does so for all of
 * them): JSON request on stdin, JSON answer on stdout. Node comes from the PATH (or {@code $NODE}). A missing
 * Node or missing packages fail the test with the command that fixes it: they are a CI prerequisite, not an
 * optional extra that would let the comparison be skipped silently.
 */
public final class NodeScript {
    public static final ObjectMapper JSON = new ObjectMapper();

    private NodeScript() {
    }

    /**
     * {@code autoglm-core/src/test/<name>}, found from core's module directory (Maven), the repository root, or another
     * module's directory (tests of modules that depend on core's test-jar).
     */
    public static Path project(String name) {
        String base = System.getProperty("basedir", System.getProperty("user.dir"));
        Path p = Path.of(base, "src", "test", name);
        if (!Files.isDirectory(p)) p = Path.of(base, "autoglm-core", "src", "test", name);
        if (!Files.isDirectory(p)) p = Path.of(base, "..", "autoglm-core", "src", "test", name).normalize();
        return p.toAbsolutePath();
    }

    /** Fails with the install command unless {@code node_modules/<npmPackage>} exists in {@code project}. */
    public static void requirePackage(Path project, String npmPackage) {
        if (!Files.isDirectory(project.resolve("node_modules").resolve(npmPackage))) {
            fail("npm package " + npmPackage + " missing under " + project + "/node_modules. Install it: cd "
                    + project + " && npm ci");
        }
    }

    /**
     * Runs {@code node <script> <args...>} in {@code project} with {@code request} serialized to stdin and
     * returns the parsed stdout; a non-zero exit, a timeout or a missing Node fails the test with stderr.
     */
    public static JsonNode run(Path project, String script, List<String> args, Object request, Duration timeout) {
        List<String> cmd = new ArrayList<>(List.of(nodeExecutable(), project.resolve(script).toString()));
        cmd.addAll(args);
        try {
            byte[] input = JSON.writeValueAsBytes(request);
            Process p = new ProcessBuilder(cmd).directory(project.toFile()).start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            try (OutputStream in = p.getOutputStream()) {
                in.write(input);
            } catch (IOException e) {
                // The script died before reading its request (a broken pipe); its exit code and stderr say why.
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail("node " + script + " timed out after " + timeout.toSeconds() + " s");
            }
            if (p.exitValue() != 0) {
                fail("node " + project.resolve(script) + " failed with exit code " + p.exitValue() + ":\n"
                        + tail(new String(err.join(), StandardCharsets.UTF_8)));
            }
            return JSON.readTree(out.join());
        } catch (IOException e) {
            fail("cannot run " + script + " with Node.js (" + e.getMessage() + "). Install Node.js (>= 20) on the PATH"
                    + " and run: cd " + project + " && npm ci", e);
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

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
