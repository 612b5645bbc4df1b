package ai.autoglm.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real sentences from Debian's fortune packages ({@code fortunes}, {@code fortunes-zh}; .ci/run installs them): one
 * line each, Chinese poetry and English quotes alternating, in file order (deterministic).
 */
final class FortuneSentences {
    static final Path DIR = Path.of("/usr/share/games/fortunes");
    private static final List<String> ZH = List.of("tang300", "song100", "chinese");
    private static final List<String> EN = List.of("fortunes", "wisdom", "literature", "people", "science", "love");

    private FortuneSentences() {
    }

    /** {@code n} distinct lines, half Chinese and half English; skips the test (fails under CI=true) without the packages. */
    static List<String> take(int n, int minChars, int maxChars) {
        boolean present = Files.isRegularFile(DIR.resolve("tang300")) && Files.isRegularFile(DIR.resolve("fortunes"));
        if (!present && "true".equals(System.getenv("CI"))) {
            fail(DIR + " has no tang300/fortunes: install the Debian packages fortunes and fortunes-zh (.ci/run does)");
        }
        assumeTrue(present, "Debian packages fortunes and fortunes-zh are not installed");
        List<String> zh = lines(ZH, n / 2, minChars / 2, maxChars / 2);   // a Chinese character carries more than a letter
        List<String> en = lines(EN, n - zh.size(), minChars, maxChars);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < Math.max(zh.size(), en.size()); i++) {
            if (i < zh.size()) out.add(zh.get(i));
            if (i < en.size()) out.add(en.get(i));
        }
        if (out.size() < n) fail("only " + out.size() + " usable lines in " + DIR + ", wanted " + n);
        return out;
    }

    private static List<String> lines(List<String> files, int n, int minChars, int maxChars) {
        Set<String> out = new LinkedHashSet<>();
        for (String f : files) {
            Path p = DIR.resolve(f);
            if (!Files.isRegularFile(p)) continue;
            try {
                // The Chinese files colour their titles with ANSI escapes; '%' lines separate the fortunes.
                for (String line : Files.readString(p, StandardCharsets.UTF_8).replaceAll("\u001b\\[[0-9;]*m", "").split("\n")) {
                    String s = line.strip();
                    if (s.equals("%") || s.length() < minChars || s.length() > maxChars || s.startsWith("--")) continue;
                    out.add(s);
                    if (out.size() == n) return new ArrayList<>(out);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new ArrayList<>(out);
    }
}
