package ai.autoglm.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pull progress: plain lines (per file per 10%, with the total) off a terminal; a redrawn area on one. */
class PullProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    /** Two files downloading at once, their reports interleaved as the puller's threads make them. */
    private static void twoFiles(PullProgress p) {
        p.planned(2, 3_000_000, 0);
        p.fileStarted("a.json", 1_000_000);
        p.fileStarted("b.safetensors", 2_000_000);
        p.fileProgress("a.json", 0);
        p.fileProgress("b.safetensors", 0);
        p.fileProgress("a.json", 50_000);     // 5%: no new tenth
        p.fileProgress("a.json", 100_000);    // 10%
        p.fileProgress("b.safetensors", 500_000);  // 25%: tenth 2
        p.fileProgress("a.json", 550_000);    // 55%: tenth 5
        p.fileProgress("b.safetensors", 2_000_000);
        p.fileDone("b.safetensors");
        p.fileProgress("a.json", 1_000_000);
        p.fileDone("a.json");
        p.fileDone("config.json");           // already in the cache: never started, says nothing
    }

    @Test
    void offATerminalOneLinePerFilePerTenthWithTheTotal() {
        twoFiles(new PullProgress(out, false));
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
                "pulling 2 file(s), 3.0 MB (0.0 MB already here)",
                "  a.json:   0% 0.0 MB of 1.0 MB  | total   0% 0.0 MB of 3.0 MB",
                "  b.safetensors:   0% 0.0 MB of 2.0 MB  | total   0% 0.0 MB of 3.0 MB",
                "  a.json:  10% 0.1 MB of 1.0 MB  | total   3% 0.1 MB of 3.0 MB",
                "  b.safetensors:  25% 0.5 MB of 2.0 MB  | total  20% 0.6 MB of 3.0 MB",
                "  a.json:  55% 0.6 MB of 1.0 MB  | total  35% 1.1 MB of 3.0 MB",
                "  b.safetensors: 100% 2.0 MB of 2.0 MB  | total  85% 2.6 MB of 3.0 MB",
                "  b.safetensors: 2.0 MB checked  | total  85% 2.6 MB of 3.0 MB",
                "  a.json: 100% 1.0 MB of 1.0 MB  | total 100% 3.0 MB of 3.0 MB",
                "  a.json: 1.0 MB checked  | total 100% 3.0 MB of 3.0 MB");
    }

    @Test
    void aResumedFileCountsItsPartialBytesOnce() {
        PullProgress p = new PullProgress(out, false);
        p.planned(1, 1_000_000, 400_000); // 400 kB of a partial file are on disk
        p.fileStarted("m.safetensors", 1_000_000);
        p.fileProgress("m.safetensors", 400_000); // the puller first reports the resumed prefix
        p.fileProgress("m.safetensors", 1_000_000);
        p.fileDone("m.safetensors");
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
                "pulling 1 file(s), 1.0 MB (0.4 MB already here)",
                "  m.safetensors:  40% 0.4 MB of 1.0 MB  | total  40% 0.4 MB of 1.0 MB",
                "  m.safetensors: 100% 1.0 MB of 1.0 MB  | total 100% 1.0 MB of 1.0 MB",
                "  m.safetensors: 1.0 MB checked  | total 100% 1.0 MB of 1.0 MB");
    }

    @Test
    void onATerminalTheAreaIsRedrawnInPlace() {
        PullProgress p = new PullProgress(out, true);
        p.planned(2, 3_000_000, 0);
        p.fileStarted("a.json", 1_000_000);
        p.fileStarted("b.safetensors", 2_000_000);
        List<String> during = screen(bytes.toString(StandardCharsets.UTF_8));
        assertThat(during).containsExactly("pulling 2 file(s), 3.0 MB (0.0 MB already here)",
                "  a.json:   0% 0.0 MB of 1.0 MB", "  b.safetensors:   0% 0.0 MB of 2.0 MB", "total   0% 0.0 MB of 3.0 MB");
        twoFilesAfterStart(p);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("\u001b[3A"); // went back over 2 files + total
        assertThat(screen(bytes.toString(StandardCharsets.UTF_8))).containsExactly(
                "pulling 2 file(s), 3.0 MB (0.0 MB already here)",
                "  b.safetensors: 2.0 MB checked",
                "  a.json: 1.0 MB checked",
                "total 100% 3.0 MB of 3.0 MB");
    }

    private static void twoFilesAfterStart(PullProgress p) {
        p.fileProgress("a.json", 0);
        p.fileProgress("b.safetensors", 0);
        p.fileProgress("b.safetensors", 2_000_000);
        p.fileDone("b.safetensors");
        p.fileProgress("a.json", 1_000_000);
        p.fileDone("a.json");
    }

    /**
     * What a terminal shows after {@code s}: a minimal ECMA-48 screen with CR, LF, CUU ({@code ESC[nA}), EL
     * ({@code ESC[K}, to the end of the line) and ED ({@code ESC[J}, to the end of the screen), written here for the test.
     */
    static List<String> screen(String s) {
        List<StringBuilder> rows = new ArrayList<>();
        rows.add(new StringBuilder());
        int row = 0;
        int col = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u001b' && i + 1 < s.length() && s.charAt(i + 1) == '[') {
                int j = i + 2;
                while (Character.isDigit(s.charAt(j))) j++;
                int n = j > i + 2 ? Integer.parseInt(s.substring(i + 2, j)) : 1;
                switch (s.charAt(j)) {
                    case 'A' -> row = Math.max(0, row - n);
                    case 'K' -> rows.get(row).setLength(Math.min(col, rows.get(row).length()));
                    case 'J' -> {
                        rows.get(row).setLength(Math.min(col, rows.get(row).length()));
                        while (rows.size() > row + 1) rows.removeLast();
                    }
                    default -> throw new AssertionError("unexpected escape " + s.charAt(j));
                }
                i = j;
            } else if (c == '\r') {
                col = 0;
            } else if (c == '\n') {
                row++;
                col = 0;
                if (rows.size() <= row) rows.add(new StringBuilder());
            } else {
                StringBuilder r = rows.get(row);
                if (col < r.length()) r.setCharAt(col, c);
                else r.append(c);
                col++;
            }
        }
        List<String> out = new ArrayList<>();
        for (StringBuilder r : rows) out.add(r.toString());
        while (!out.isEmpty() && out.getLast().isEmpty()) out.removeLast();
        return out;
    }
}
