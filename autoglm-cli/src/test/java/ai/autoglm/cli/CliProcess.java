package ai.autoglm.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code autoglm ...} as a real child process: the test's classpath, the launcher's JVM flags, and an environment with
 * the caller's model-hub variables only (the machine's own HF_*, AUTOGLM_* and MODELSCOPE_* are removed, so a test
 * never reaches a real hub or cache by accident).
 */
final class CliProcess {
    /** Exit code and everything the process printed (stdout and stderr together). */
    record Result(int code, String text) {
    }

    private CliProcess() {
    }

    static ProcessBuilder builder(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss16m",
                "-cp", System.getProperty("java.class.path"), AutoglmCli.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_") || k.startsWith("AUTOGLM_") || k.startsWith("MODELSCOPE_"));
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs to its end (killed after 5 minutes, so a command that hangs fails the test instead of the build). */
    static Result run(Map<String, String> env, String... args) throws Exception {
        Process p = builder(env, args).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly();
        return new Result(p.waitFor(), text);
    }
}
