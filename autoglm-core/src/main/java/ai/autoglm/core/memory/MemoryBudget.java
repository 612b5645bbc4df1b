package ai.autoglm.core.memory;

import java.util.Locale;

/**
 * How much memory a model may take: given explicitly ({@code --memory-budget-mb}), or the machine's MemAvailable
 * minus a safety margin (10 %, at least 256 MiB) that leaves room for the page cache, other processes and the
 * estimate's own error.
 *
 * @param bytes  the budget
 * @param source where it came from, for the log
 */
public record MemoryBudget(long bytes, String source) {
    public static final long MIN_MARGIN_BYTES = 256L << 20;

    public MemoryBudget {
        if (bytes <= 0) throw new IllegalArgumentException("memory budget must be positive, got " + bytes + " bytes");
    }

    public static MemoryBudget ofMegabytes(long mb) {
        if (mb <= 0) throw new IllegalArgumentException("memory budget must be a positive number of MiB, got " + mb);
        return new MemoryBudget(Math.multiplyExact(mb, 1L << 20), "given: " + mb + " MiB");
    }

    /** MemAvailable minus the margin; fails where /proc/meminfo cannot be read (say the budget explicitly there). */
    public static MemoryBudget fromMachine() {
        long available = ProcessMemory.availableBytes();
        if (available <= 0) {
            throw new IllegalArgumentException("cannot read MemAvailable from /proc/meminfo: give the memory budget explicitly (--memory-budget-mb)");
        }
        long margin = Math.max(MIN_MARGIN_BYTES, available / 10);
        long bytes = available - margin;
        if (bytes <= 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "only %.0f MiB available on this machine, less than the %.0f MiB safety margin", MemoryEstimate.mib(available), MemoryEstimate.mib(margin)));
        }
        return new MemoryBudget(bytes, String.format(Locale.ROOT, "MemAvailable %.0f MiB minus %.0f MiB margin",
                MemoryEstimate.mib(available), MemoryEstimate.mib(margin)));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.1f MiB (%s)", MemoryEstimate.mib(bytes), source);
    }
}
