package ai.autoglm.core.format;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The bytes a model loader takes from disk, shown to a check bound for the current load before they are parsed.
 *
 * <p>Why: a signed model must be verified on the bytes that are actually served. Hashing a file by path and then
 * reopening the path to load it leaves a window in which another file can be renamed over it (check-then-use). So
 * every reader of model files ({@link ai.autoglm.core.format.gguf.GgufFile}, the safetensors reader, the JSON and
 * tokenizer side files, the PEFT adapter) hands this class the mapping or the bytes it just obtained from its one
 * open of the file, and a check bound with {@link #checked} (the server's manifest check) hashes exactly those. With
 * no check bound (the default) nothing happens.
 *
 * <p>The check is bound to the loading thread with a {@link ScopedValue}: every file of a model is opened on the
 * thread that calls the loader.
 */
public final class LoadedFiles {
    /** Sees each file's content as the loader obtained it; throws {@link Refused} to stop the load. */
    @FunctionalInterface
    public interface Check {
        void check(Path file, MemorySegment content);
    }

    /** A bound check refused a file's content; readers pass it on unwrapped, so the reason reaches the caller as it was. */
    public static class Refused extends SecurityException {
        public Refused(String message) {
            super(message);
        }
    }

    private static final ScopedValue<Check> CHECK = ScopedValue.newInstance();

    private LoadedFiles() {
    }

    /** Runs {@code load} with {@code check} seeing every model file it reads or maps. */
    public static <T> T checked(Check check, Supplier<T> load) {
        return ScopedValue.where(CHECK, check).call(load::get);
    }

    /** Called by readers right after mapping a whole file, before parsing it. */
    public static void mapped(Path file, MemorySegment content) {
        if (CHECK.isBound()) CHECK.get().check(file, content);
    }

    /** {@link Files#readAllBytes}, with the bytes shown to the bound check. */
    public static byte[] readAllBytes(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (CHECK.isBound()) CHECK.get().check(file, MemorySegment.ofArray(bytes));
        return bytes;
    }

    /** {@link #readAllBytes} decoded as UTF-8. */
    public static String readString(Path file) throws IOException {
        return new String(readAllBytes(file), StandardCharsets.UTF_8);
    }
}
