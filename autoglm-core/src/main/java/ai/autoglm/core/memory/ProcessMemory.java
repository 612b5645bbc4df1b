package ai.autoglm.core.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux says about this process's and the machine's memory ({@code proc(5)}): resident set now
 * ({@code VmRSS}) and at its peak ({@code VmHWM}) from {@code /proc/self/status}, and {@code MemAvailable}
 * from {@code /proc/meminfo} (the kernel's estimate of what can be allocated without swapping). Each reading
 * is -1 where the file or the field does not exist (not Linux).
 */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Peak resident set (VmHWM), memory-mapped weight pages included, in bytes; -1 where unknown. */
    public static long peakResidentBytes() {
        return kibField(Path.of("/proc/self/status"), "VmHWM:");
    }

    /** Resident set now (VmRSS) in bytes; -1 where unknown. */
    public static long residentBytes() {
        return kibField(Path.of("/proc/self/status"), "VmRSS:");
    }

    /** The machine's MemAvailable in bytes; -1 where unknown. */
    public static long availableBytes() {
        return kibField(Path.of("/proc/meminfo"), "MemAvailable:");
    }

    /** A "Name:   1234 kB" line's value in bytes. */
    static long kibField(Path file, String field) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(field)) return Long.parseLong(line.substring(field.length()).replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
