package ai.autoglm.client;

import java.nio.file.Path;

/** The local model file or directory does not exist (or the bundled default could not be found). */
public final class ModelFileNotFoundException extends AutoGLMException {
    private final Path path;

    public ModelFileNotFoundException(Path path, String message) {
        super(message);
        this.path = path;
    }

    /** The path looked for (null when no candidate was known). */
    public Path path() {
        return path;
    }
}
