package ai.autoglm.core.memory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A child JVM started with the flags the product ships ({@code AUTOGLM_JVM_FLAGS} of scripts/java-env.sh, which
 * ./autoglm, the bench scripts and deploy/Dockerfile use), so that resident memory is measured as users get it: the
 * memory model's JVM part ({@link ProcessKind}) was measured with these flags, and its young-generation cap is what
 * keeps the figure independent of warm-up garbage.
 */
final class LauncherJvm {
    private LauncherJvm() {
    }

    /** The launcher's JVM flags, read from scripts/java-env.sh (the tests run in the module's directory). */
    static List<String> flags() throws IOException {
        Path env = Path.of("..", "scripts", "java-env.sh");
        Matcher m = Pattern.compile("AUTOGLM_JVM_FLAGS=\"([^\"]*)\"").matcher(Files.readString(env));
        assertThat(m.find()).as("AUTOGLM_JVM_FLAGS in " + env.toAbsolutePath()).isTrue();
        return List.of(m.group(1).trim().split("\\s+"));
    }

    /** What a child printed: all of it, and its "key number" lines. */
    record Result(String output, Map<String, Long> values) {
        long get(String key) {
            assertThat(values).as(output).containsKey(key);
            return values.get(key);
        }
    }

    /** Runs {@code mainClass args} in a child JVM with the launcher's flags. */
    static Result run(int timeoutSeconds, String mainClass, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish in " + timeoutSeconds + " s:\n" + out);
        }
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, Long> v = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            if (kv.length == 2 && kv[1].matches("-?\\d+")) v.put(kv[0], Long.parseLong(kv[1]));
        }
        return new Result(out, v);
    }
}
