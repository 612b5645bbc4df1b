package ai.autoglm.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The small GLM-4-shaped model trained by this project and shipped in {@code models/default/} (see its
 * MODEL_CARD.md): what {@code run}, {@code chat} and {@code serve} use when no {@code --model} is given,
 * so the tool works on a fresh machine without downloading anything.
 */
final class DefaultModel {
    /** Set by the ./autoglm launcher to the repository root. */
    static final String HOME_PROPERTY = "autoglm.home";
    /** The name clients use for it when it is served. */
    static final String ALIAS = "autoglm-default";

    private DefaultModel() {
    }

    /** The bundled model file; a clear error when it cannot be found. */
    static Path path() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home == null) {
            throw new IllegalArgumentException("no --model given, and the bundled default model is only known when "
                    + "started through the ./autoglm launcher (-D" + HOME_PROPERTY + "=REPO)");
        }
        Path file = Path.of(home, "models", "default", "model.gguf");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no --model given, and the bundled default model is missing: " + file);
        }
        return file;
    }

    /** {@code model} when given, else the bundled default. */
    static Path orDefault(Path model) {
        return model != null ? model : path();
    }
}
