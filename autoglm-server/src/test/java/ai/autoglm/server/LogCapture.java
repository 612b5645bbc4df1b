package ai.autoglm.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The server's log records (java.util.logging, which Helidon logs through too) while it is open. */
final class LogCapture extends Handler implements AutoCloseable {
    final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger root = Logger.getLogger("");

    LogCapture() {
        setLevel(Level.ALL);
        root.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        records.add(r);
    }

    /** Records at {@code level} or above. */
    List<LogRecord> atLeast(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue()).toList();
    }

    /** Records that carry a stack trace. */
    List<LogRecord> withTrace() {
        return records.stream().filter(r -> r.getThrown() != null && r.getLevel().intValue() >= Level.INFO.intValue()).toList();
    }

    static String describe(List<LogRecord> rs) {
        StringBuilder sb = new StringBuilder();
        for (LogRecord r : rs) sb.append(r.getLevel()).append(' ').append(r.getLoggerName()).append(": ").append(r.getMessage())
                .append(r.getThrown() == null ? "" : " [" + r.getThrown() + "]").append('\n');
        return sb.toString();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        root.removeHandler(this);
    }
}
