package ai.autoglm.core.quant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A temp file that quantized tensors are appended to, so a model larger than the heap can be quantized: each tensor
 * is encoded chunk by chunk and written out, then the file is memory-mapped and its slices go to the GGUF writer.
 * Deleted on {@link #close()}, and by a shutdown hook when the JVM is stopped (Ctrl-C, SIGTERM) before that. A process
 * killed outright (SIGKILL, a crash) cannot clean up: its spool is named {@code .autoglm-quantize-<pid>-<random>.spool}
 * so that the next quantization in that directory removes it ({@link #removeStale}) once that process is gone.
 */
final class TensorSpool implements AutoCloseable {
    static final String PREFIX = ".autoglm-quantize-";
    static final String SUFFIX = ".spool";
    /** Spools of this JVM not closed yet: what the shutdown hook deletes. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path p : LIVE) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the JVM is stopping: nothing to report to
                }
            }
        }, "autoglm-spool-cleanup"));
    }

    private final Path file;
    private final FileChannel channel;
    private Arena arena;
    private MemorySegment mapped;
    private long size;

    TensorSpool(Path dir) {
        removeStale(dir);
        try {
            Files.createDirectories(dir);
            this.file = Files.createTempFile(dir, PREFIX + ProcessHandle.current().pid() + "-", SUFFIX);
            LIVE.add(file);
            this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp file in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the spool files in {@code dir} left by quantizations whose process is gone (killed, crashed): those whose
     * name carries the id of a process that no longer runs, and those named before the id was part of the name.
     *
     * @return how many were deleted
     */
    static int removeStale(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path p : ds) {
                if (LIVE.contains(p) || owner(p.getFileName().toString()).map(ph -> ph.isAlive()).orElse(false)) continue;
                if (Files.deleteIfExists(p)) removed++;
            }
        } catch (IOException e) {
            // Cleaning up after another process is a courtesy: a directory we cannot list fails later, naming itself.
            return removed;
        }
        return removed;
    }

    /** The process that wrote a spool named {@code .autoglm-quantize-<pid>-<random>.spool}, if it still runs. */
    private static java.util.Optional<ProcessHandle> owner(String name) {
        String rest = name.substring(PREFIX.length());
        int dash = rest.indexOf('-');
        if (dash <= 0) return java.util.Optional.empty(); // the old naming, without a process id
        try {
            return ProcessHandle.of(Long.parseLong(rest.substring(0, dash)));
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    Path file() {
        return file;
    }

    /** Appends {@code data}; returns its offset. */
    long append(MemorySegment data) {
        if (mapped != null) throw new IllegalStateException("spool already mapped");
        long offset = size;
        try {
            ByteBuffer b = data.asByteBuffer();
            while (b.hasRemaining()) channel.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the quantization spool " + file + " (" + size + " bytes written so far): "
                    + e.getMessage() + "; give --spool-dir a directory with more space", e);
        }
        size += data.byteSize();
        return offset;
    }

    long size() {
        return size;
    }

    /** The bytes at {@code [offset, offset + length)}; maps the file on first use (no appends after that). */
    MemorySegment slice(long offset, long length) {
        if (mapped == null) {
            try {
                arena = Arena.ofShared();
                mapped = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map " + file + ": " + e.getMessage(), e);
            }
        }
        return length == 0 ? MemorySegment.ofArray(new byte[0]) : mapped.asSlice(offset, length);
    }

    @Override
    public void close() {
        try {
            if (arena != null) arena.close();
            channel.close();
            Files.deleteIfExists(file);
            LIVE.remove(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }
}
