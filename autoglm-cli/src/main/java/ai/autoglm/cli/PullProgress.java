package ai.autoglm.cli;

import ai.autoglm.core.hub.PullListener;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Progress of a pull on stderr: one line per file plus a total, while several files download at once.
 * <p>
 * On a terminal the lines of the files in flight and the total are redrawn in place: the cursor goes back up over
 * what was drawn (ANSI/ECMA-48 CUU {@code ESC[nA}, then EL {@code ESC[K} to clear each line), at most every
 * {@link #REDRAW_NANOS}; a finished file's line is printed once above the area and leaves it. me.tongfei progressbar
 * draws each bar on a single line with {@code \r}, so several of its bars would overwrite each other. Elsewhere (a
 * log file, a pipe, CI) nothing is redrawn: a plain line each time a file passes another 10% of its size, with the
 * total on the same line, and one when it was checked.
 * <p>
 * Byte counts: what the puller reports per file includes a resumed prefix, which {@code planned}'s "already here"
 * already counts, so the total adds only what each file gained since its first report.
 */
final class PullProgress implements PullListener {
    static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final Map<String, FileState> files = new LinkedHashMap<>();
    private long totalBytes;
    private long alreadyBytes;
    private int drawnLines;
    private long lastDraw;

    private static final class FileState {
        final long size;
        long first = -1;
        long bytes;
        int lastTenth = -1;

        FileState(long size) {
            this.size = size;
        }
    }

    PullProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** For stderr: redrawn when the JVM has a terminal (System.console) and TERM is not "dumb"; plain lines otherwise. */
    static PullProgress onStderr() {
        java.io.Console c = System.console();
        boolean tty = c != null && c.isTerminal() && !"dumb".equals(System.getenv("TERM"));
        return new PullProgress(System.err, tty);
    }

    @Override
    public synchronized void planned(int count, long total, long already) {
        totalBytes = total;
        alreadyBytes = already;
        out.printf(Locale.ROOT, "pulling %d file(s), %s (%s already here)%n", count, HubCli.megabytes(total), HubCli.megabytes(already));
    }

    @Override
    public synchronized void fileStarted(String name, long size) {
        files.put(name, new FileState(size));
        if (terminal) draw(true);
    }

    @Override
    public synchronized void fileProgress(String name, long bytes) {
        FileState f = files.get(name);
        if (f == null) return;
        if (f.first < 0) f.first = bytes;
        f.bytes = bytes;
        if (terminal) {
            draw(false);
        } else if (f.size > 0) {
            int tenth = (int) Math.min(10, bytes * 10 / f.size);
            if (tenth > f.lastTenth) {
                f.lastTenth = tenth;
                out.println(fileLine(name, f) + "  | " + totalLine());
            }
        }
    }

    @Override
    public synchronized void fileDone(String name) {
        FileState f = files.remove(name);
        if (f == null) return; // already complete in the cache: nothing was fetched, nothing to say
        alreadyBytes += f.bytes - Math.max(0, f.first); // keeps the total right once the file leaves the map
        if (terminal) {
            clear();
            out.println("  " + name + ": " + HubCli.megabytes(f.bytes) + " checked");
            draw(true);
        } else {
            out.println("  " + name + ": " + HubCli.megabytes(f.bytes) + " checked  | " + totalLine());
        }
    }

    /** Bytes on disk now, of all the pull's files. */
    private long done() {
        long d = alreadyBytes;
        for (FileState f : files.values()) d += f.bytes - Math.max(0, f.first);
        return d;
    }

    private String totalLine() {
        long d = done();
        return String.format(Locale.ROOT, "total %3d%% %s of %s", totalBytes > 0 ? Math.min(100, d * 100 / totalBytes) : 100,
                HubCli.megabytes(d), HubCli.megabytes(totalBytes));
    }

    private static String fileLine(String name, FileState f) {
        if (f.size <= 0) return String.format(Locale.ROOT, "  %s: %s", name, HubCli.megabytes(f.bytes));
        return String.format(Locale.ROOT, "  %s: %3d%% %s of %s", name, Math.min(100, f.bytes * 100 / f.size),
                HubCli.megabytes(f.bytes), HubCli.megabytes(f.size));
    }

    /** Moves up over the area drawn last and clears it. */
    private void clear() {
        if (drawnLines > 0) out.print("\u001b[" + drawnLines + "A\r\u001b[J");
        drawnLines = 0;
    }

    private void draw(boolean now) {
        long t = System.nanoTime();
        if (!now && t - lastDraw < REDRAW_NANOS) return;
        lastDraw = t;
        StringBuilder sb = new StringBuilder();
        if (drawnLines > 0) sb.append("\u001b[").append(drawnLines).append('A');
        int lines = 0;
        for (var e : files.entrySet()) {
            sb.append('\r').append(fileLine(e.getKey(), e.getValue())).append("\u001b[K\n");
            lines++;
        }
        sb.append('\r').append(totalLine()).append("\u001b[K\n");
        lines++;
        if (lines < drawnLines) sb.append("\u001b[J"); // fewer lines than before: erase what is left below
        out.print(sb);
        out.flush();
        drawnLines = lines;
    }
}
