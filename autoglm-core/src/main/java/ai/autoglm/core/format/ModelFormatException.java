package ai.autoglm.core.format;

import java.nio.file.Path;

/**
 * A model file (or directory) that is corrupt, hostile or not what this engine understands. The message
 * always names the file and the problem in words a user can act on; the CLI prints it without a stack
 * trace and exits with code 2.
 */
public class ModelFormatException extends RuntimeException {
    private final Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
