package ai.autoglm.compress.quant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A temp file that quantized tensors are appended to, so a model larger than the heap can be quantized: each tensor
 * is encoded chunk by chunk and written out, then the file is memory-mapped and its slices go to the GGUF writer.
 * Deleted on {@link #close()}.
 */
final class TensorSpool implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private Arena arena;
    private MemorySegment mapped;
    private long size;

    TensorSpool(Path dir) {
        try {
            Files.createDirectories(dir);
            this.file = Files.createTempFile(dir, ".autoglm-quantize-", ".spool");
            this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp file in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Appends {@code data}; returns its offset. */
    long append(MemorySegment data) {
        if (mapped != null) throw new IllegalStateException("spool already mapped");
        long offset = size;
        try {
            ByteBuffer b = data.asByteBuffer();
            while (b.hasRemaining()) channel.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
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
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }
}
