package ai.autoglm.core.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How many threads the forward pass computes on. Decoding streams the weights from memory, and two SMT
 * siblings share one core's load ports and caches, so more threads than physical cores only adds
 * synchronisation (llama.cpp defaults to the physical core count for the same reason).
 * {@link Runtime#availableProcessors()} counts logical CPUs (SMT threads) within the process's CPU affinity and
 * cgroup quota, so the default is the smaller of that and the physical cores Linux reports in
 * {@code /sys/devices/system/cpu/cpu*}{@code /topology/core_cpus_list} (distinct sibling sets). The system
 * property {@code autoglm.threads} or {@link #set} overrides it.
 */
public final class ComputeThreads {
    private static volatile ComputePool pool;

    private ComputeThreads() {
    }

    /** Threads used by the forward pass. */
    public static int count() {
        return pool().threads();
    }

    /** Uses {@code threads} threads from now on (the previous pool is shut down once idle). */
    public static synchronized void set(int threads) {
        if (threads < 1 || threads > 1024) throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        ComputePool old = pool;
        if (old != null && old.threads() == threads) return;
        pool = new ComputePool(threads);
        if (old != null) old.shutdown();
    }

    /** The default: min(available processors, physical cores), or {@code -Dautoglm.threads}. */
    public static int defaultCount() {
        Integer asked = Integer.getInteger("autoglm.threads");
        if (asked != null && asked > 0) return asked;
        int available = Math.max(1, Runtime.getRuntime().availableProcessors());
        int physical = physicalCores();
        return physical > 0 ? Math.min(available, physical) : available;
    }

    /** Physical cores from Linux sysfs (distinct SMT sibling lists), or 0 when unknown. */
    public static int physicalCores() {
        Path cpus = Path.of("/sys/devices/system/cpu");
        Set<String> cores = new HashSet<>();
        try (var dirs = Files.list(cpus)) {
            for (Path cpu : dirs.filter(p -> p.getFileName().toString().matches("cpu[0-9]+")).toList()) {
                for (String file : List.of("topology/core_cpus_list", "topology/thread_siblings_list")) {
                    Path f = cpu.resolve(file);
                    if (Files.isReadable(f)) {
                        cores.add(Files.readString(f).trim());
                        break;
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            return 0;
        }
        return cores.size();
    }

    static ComputePool pool() {
        ComputePool p = pool;
        if (p != null) return p;
        synchronized (ComputeThreads.class) {
            if (pool == null) pool = new ComputePool(defaultCount());
            return pool;
        }
    }
}
