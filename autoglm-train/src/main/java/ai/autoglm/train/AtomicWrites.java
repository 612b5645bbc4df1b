package ai.autoglm.train;

import ai.autoglm.core.format.AtomicFiles;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Small files (JSON, copied tokenizer files, the loss plot) written whole through {@link AtomicFiles}. */
public final class AtomicWrites {
    private AtomicWrites() {
    }

    public static void writeBytes(Path file, byte[] bytes) {
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }
}
