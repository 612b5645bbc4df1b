package ai.autoglm.cli;

import ai.autoglm.core.model.ComputeThreads;
import picocli.CommandLine.Option;

/** {@code -t/--threads}, the same option on every command that runs the forward pass or training. */
final class ThreadsOption {
    @Option(names = {"-t", "--threads"}, paramLabel = "T", description = "Compute threads (default: physical cores).")
    Integer threads;

    /** Sets {@link ComputeThreads} when {@code --threads} was given; call before loading or computing. */
    void apply() {
        if (threads == null) return;
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        ComputeThreads.set(threads);
    }

    /** The threads the computation uses. */
    int count() {
        return threads != null ? threads : ComputeThreads.count();
    }
}
